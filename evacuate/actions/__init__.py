"""evacuate.actions"""
