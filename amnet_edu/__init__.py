"""amnet_edu"""
