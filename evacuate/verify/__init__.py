"""evacuate.verify"""
