"""portal.web"""
