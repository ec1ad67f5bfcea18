"""evacuate.transport"""
