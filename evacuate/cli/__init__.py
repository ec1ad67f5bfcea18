"""evacuate.cli"""
