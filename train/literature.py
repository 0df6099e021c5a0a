"""Published FER2013 results, as reported by their authors (for docs/REPORT.md, section 1).

Accuracy is on the standard PrivateTest split unless the note says otherwise. "As reported": these
numbers were not reproduced here; notes flag set-ups that are not comparable with a from-scratch single model,
and results whose checkpoint or learning-rate schedule was chosen on the split they report ("not clean":
selecting the best of many epochs on the test split inflates it by about half a point or more).
"""

PAPERS = [
    # (method, year, accuracy %, split, pretrained, params, ensemble / TTA, note)
    ("Human accuracy (Goodfellow et al., ICML 2013 challenge paper)", 2013, "65 ± 5", "sample of test", "—", "—", "—",
     "estimate from a few annotators; shows the label noise ceiling"),
    ("Tang, CNN + linear SVM loss (challenge winner)", 2013, "71.2", "PrivateTest", "no", "not stated", "crops/flips at test time",
     "the original competition result"),
    ("Pramerdorfer & Kampel, VGG-B / ResNet / Inception", 2016, "72.7 / 72.4 / 71.6", "PrivateTest", "no", "5–11 M",
     "ten-crop TTA each; 8-net ensemble 75.2", "careful single-model baselines from scratch"),
    ("Arriaga et al., mini-Xception", 2017, "66", "PrivateTest", "no", "0.06 M", "no",
     "the model behind the `fer` PyPI package; built for real-time CPU use"),
    ("Khaireddin & Chen, tuned VGGNet", 2021, "73.28 (independent re-run: 72.73)",
     "quoted as PrivateTest; the official code reports PublicTest, selecting on PrivateTest: not clean",
     "no", "not stated (VGG-style)", "ten-crop TTA",
     "NOT a clean PrivateTest figure: the official code (usef-kh/fer) picks the checkpoint and steers the LR "
     "(ReduceLROnPlateau) on PrivateTest and reports PublicTest; an independent re-run got 72.73%. ~300 GPU epochs"),
    ("WuJie1010/Facial-Expression-Recognition.Pytorch, VGG19 (GitHub repo, no paper)", 2018, "73.112", "PrivateTest, not clean",
     "no", "~ 20 M (VGG19)", "ten-crop TTA",
     "NOT a clean figure: the training script keeps the checkpoint with the best PrivateTest accuracy and reports that best"),
    ("LetheSec/Fer2013-Facial-Emotion-Recognition-Pytorch, ResNet18 (GitHub repo, no paper)", 2021, "73.70", "PrivateTest, not clean",
     "no", "~ 11 M (ResNet18)", "ten-crop TTA",
     "NOT a clean figure: adapted from usef-kh/fer; PrivateTest is its validation set (LR schedule, best checkpoint) "
     "and the reported number is that best validation accuracy"),
    ("Minaee et al., Deep-Emotion (attentional CNN)", 2021, "70.02", "PrivateTest", "no", "small", "no", ""),
    ("Pecoraro et al., LHC-Net (ResNet-34 + local multi-head attention)", 2022, "74.42", "PrivateTest", "ImageNet", "> 21 M (ResNet-34 + heads)",
     "ten-crop TTA", "pretrained backbone; 74.42 with TTA"),
    ("Fard & Mahoor, Ad-Corre", 2022, "72.03", "PrivateTest", "ImageNet", "> 23 M (ResNet-50 based)", "no", "pretrained backbone"),
    ("Georgescu et al., CNNs + bag of visual words, local learning", 2019, "75.42", "PrivateTest", "no", "several nets",
     "ensemble of CNNs and handcrafted features", "ensemble, not a single model"),
    ("Pham et al., Residual Masking Network (`rmn` package)", 2021, "74.14 (ensemble 76.82)", "PrivateTest", "ImageNet", "~ 140 M (as reported)",
     "ten-crop TTA", "large pretrained model; ensemble number is of 6 nets"),
    ("Vignesh et al., Segmentation VGG-19", 2023, "75.97", "PrivateTest", "not stated", "VGG-19 size", "not stated",
     "doubtful/non-standard: single-paper claim well above comparable VGGs; protocol details thin"),
]
