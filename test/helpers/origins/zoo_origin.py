"""Origin for the origin-zoo tests: Python's http.server, HTTP/1.0 (closes after each response) or HTTP/1.1 keep-alive.

Usage: python3 zoo_origin.py http10|http11   -- listens on 127.0.0.1:0 and prints the port on the first line.

GET /blob?size=N      N deterministic bytes with Content-Length; X-Sha256 carries their SHA-256.
GET /eof?size=N       the same bytes with no length: the body ends when the connection closes.
GET /chunked?size=N   (http11) chunked, with an X-Checksum trailer.
PUT|POST /upload      reads the body (Content-Length or chunked; ?slow=1 reads 1 KiB at a time) and answers with
                      {"sha256": ..., "bytes": ...}.
"""
import hashlib
import json
import random
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE = sys.argv[1] if len(sys.argv) > 1 else 'http10'
_cache = {}


def blob(size):
    if size not in _cache:
        _cache[size] = random.Random(size).randbytes(size)
    return _cache[size]


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1' if MODE == 'http11' else 'HTTP/1.0'

    def log_message(self, *args):
        pass

    def params(self):
        path, _, query = self.path.partition('?')
        out = {}
        for part in query.split('&'):
            if '=' in part:
                k, v = part.split('=', 1)
                out[k] = v
        return path, out

    def do_GET(self):
        path, params = self.params()
        body = blob(int(params.get('size', '0')))
        self.send_response(200)
        self.send_header('Content-Type', 'application/octet-stream')
        self.send_header('X-Sha256', hashlib.sha256(body).hexdigest())
        if path == '/eof':
            self.send_header('Connection', 'close')
            self.close_connection = True
        elif path == '/chunked' and MODE == 'http11':
            self.send_header('Transfer-Encoding', 'chunked')
            self.send_header('Trailer', 'X-Checksum')
        else:
            self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        step = 65536
        chunked = path == '/chunked' and MODE == 'http11'
        for i in range(0, len(body), step):
            piece = body[i:i + step]
            if chunked:
                self.wfile.write(b'%x\r\n' % len(piece) + piece + b'\r\n')
            else:
                self.wfile.write(piece)
        if chunked:
            self.wfile.write(b'0\r\nX-Checksum: ' + hashlib.sha256(body).hexdigest().encode() + b'\r\n\r\n')
        self.wfile.flush()

    def read_body(self, slow):
        digest = hashlib.sha256()
        step = 1024 if slow else 65536
        counted = [0]

        def read_exact(left):
            while left > 0:
                piece = self.rfile.read(min(step, left))
                if not piece:
                    raise ConnectionError('body cut short')
                digest.update(piece)
                counted[0] += len(piece)
                left -= len(piece)

        if 'chunked' in self.headers.get('Transfer-Encoding', ''):
            while True:
                size = int(self.rfile.readline().split(b';')[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b'\r\n', b'\n', b''):
                        pass
                    break
                read_exact(size)
                self.rfile.readline()
        else:
            read_exact(int(self.headers.get('Content-Length', '0')))
        return digest.hexdigest(), counted[0]

    def do_PUT(self):
        _, params = self.params()
        sha, total = self.read_body(params.get('slow') == '1')
        answer = json.dumps({'sha256': sha, 'bytes': total}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_POST = do_PUT


server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
