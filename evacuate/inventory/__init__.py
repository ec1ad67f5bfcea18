"""evacuate.inventory"""
