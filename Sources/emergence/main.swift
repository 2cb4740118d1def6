print("emergence")
