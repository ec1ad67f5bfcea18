"""evacuate.plan"""
