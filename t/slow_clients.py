# slow_clients.py PORT N MEGABYTES SECONDS: N clients that start sending a
# SET of a large value and stop partway, MEGABYTES each, so that the server
# holds what they sent in their query buffers (client memory, which
# used_memory counts); after SECONDS they hang up. Bounded: N sockets, a
# fixed amount, a fixed time. Prints "sent BYTES" when all have sent.
import socket
import sys
import time

port, n, mb, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
part = int(mb * 1024 * 1024)
full = 2 * part  # the value announced: never all sent
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"*3\r\n$3\r\nSET\r\n$8\r\nslow:%03d\r\n$%d\r\n" % (i, full))
    socks.append(s)
chunk = b"x" * 65536
for s in socks:
    left = part
    while left > 0:
        left -= s.send(chunk[:min(left, len(chunk))])
print("sent %d" % (n * part), flush=True)
time.sleep(secs)
for s in socks:
    s.close()
