/** Apps the deployment tests deploy, shared by more than one of them. */

/** A WebSocket server of a few lines (no packages inside the sandbox): short masked text frames, echoed with the path and the X-Forwarded-Proto and -Host it was given. */
export const WS_ECHO_APP = [
  "const http = require('http');",
  "const crypto = require('crypto');",
  "const server = http.createServer((q, s) => s.end('plain'));",
  "server.on('upgrade', (req, socket) => {",
  "  const accept = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');",
  "  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Accept: ' + accept + '\\r\\n\\r\\n');",
  "  socket.on('data', (frame) => {",
  "    const length = frame[1] & 0x7f, mask = frame.subarray(2, 6), data = Buffer.from(frame.subarray(6, 6 + length));",
  "    for (let i = 0; i < data.length; i++) data[i] ^= mask[i % 4];",
  "    const reply = Buffer.from('echo ' + req.url + ' ' + req.headers['x-forwarded-proto'] + ' ' + req.headers['x-forwarded-host'] + ' ' + data.toString());",
  "    socket.write(Buffer.concat([Buffer.from([0x81, reply.length]), reply]));",
  "  });",
  "});",
  "server.listen(process.env.PORT);",
].join('\n');
