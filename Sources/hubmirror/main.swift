print("hubmirror")
