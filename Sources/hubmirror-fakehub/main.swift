print("fakehub")
