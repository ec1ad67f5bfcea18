"""evacuate.snapshot"""
