"""VirtStick's first-boot wizard: from power-on to a configured, running lab.

answers (validation) <- seed | tui | web  ->  apply: network (NetworkManager, checkpoint) ->
storage (tmpfs/zram/disk) -> system -> appliance configuration -> service. Entry: cli.py.
"""
