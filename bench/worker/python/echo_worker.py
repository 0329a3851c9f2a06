"""The floor for a round trip: read fd 3, write the same bytes to fd 4, nothing else."""
import os

read, write = os.read, os.write
while True:
    data = read(3, 65536)
    if not data:
        break
    write(4, data)
