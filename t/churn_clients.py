# churn_clients.py PORT N: N clients one after another, each a new
# connection (so a new client id) that sends one SET of 512 bytes, reads
# the reply and hangs up, pausing 0.3 s every 1000. Bounded: N requests.
import socket
import sys
import time

port, n = int(sys.argv[1]), int(sys.argv[2])
value = b"x" * 512
for i in range(n):
    key = b"churn:%d" % i
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(value), value))
    s.recv(64)
    s.close()
    if i % 1000 == 999:
        time.sleep(0.3)
