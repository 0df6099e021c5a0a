// Polls a job's JSON status while it runs; reloads the page when it ends (CSP: script-src 'self').
(function () {
  var box = document.getElementById("job");
  if (!box || ["queued", "running"].indexOf(box.dataset.status) < 0) return;
  var bar = document.getElementById("job-progress");
  var status = document.getElementById("job-status");
  var percent = document.getElementById("job-percent");
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (job) {
        bar.value = job.progress;
        percent.textContent = Math.round(100 * job.progress) + "%";
        status.textContent = job.status;
        if (["queued", "running"].indexOf(job.status) >= 0) { setTimeout(poll, 1000); }
        else { window.location.reload(); }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
