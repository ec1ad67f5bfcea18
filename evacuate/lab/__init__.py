"""evacuate.lab"""
