"""evacuate.ansible"""
