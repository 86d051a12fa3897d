/**
 * ZMTP 3.x wire bytes (RFC 23), written from the spec, for raw peers that talk to the feed socket
 * byte by byte: greetings, frames, commands, READY, messages.
 */

/** A peer's 64-byte greeting: signature, version major.minor, mechanism, as-server, filler. */
export function greeting({ major = 3, minor = 1, mechanism = 'NULL', byte9 = 0x7f, first = 0xff } = {}): Buffer {
  const g = Buffer.alloc(64);
  g[0] = first;
  g[8] = 0x01;
  g[9] = byte9;
  g[10] = major;
  g[11] = minor;
  g.write(mechanism, 12, 'latin1');
  g[32] = 0; // as-server
  return g;
}

/** One frame: short (1-byte size) up to 255 bytes, LONG (8-byte big-endian size) above. */
export function frame(flags: number, body: Buffer): Buffer {
  if (body.length > 255) {
    const head = Buffer.alloc(9);
    head[0] = flags | 0x02;
    head.writeBigUInt64BE(BigInt(body.length), 1);
    return Buffer.concat([head, body]);
  }
  return Buffer.concat([Buffer.from([flags, body.length]), body]);
}

/** A command frame: `\len name` then the body. */
export function command(name: string, body: Buffer = Buffer.alloc(0)): Buffer {
  return frame(0x04, Buffer.concat([Buffer.from([name.length]), Buffer.from(name, 'latin1'), body]));
}

/** READY with the given properties (name, value) in order. */
export function ready(props: readonly (readonly [string, string])[]): Buffer {
  const parts = props.map(([name, value]) => {
    const v = Buffer.from(value, 'latin1');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(v.length);
    return Buffer.concat([Buffer.from([name.length]), Buffer.from(name, 'latin1'), len, v]);
  });
  return command('READY', Buffer.concat(parts));
}

/** READY naming only the socket type, as libzmq's PUB and SUB send it. */
export const readyAs = (socketType: string): Buffer => ready([['Socket-Type', socketType]]);

/** A message: every frame but the last with MORE. */
export function message(frames: readonly (string | Buffer)[]): Buffer {
  return Buffer.concat(
    frames.map((f, i) => frame(i < frames.length - 1 ? 0x01 : 0x00, typeof f === 'string' ? Buffer.from(f, 'utf8') : f)),
  );
}

/** PING: 2-byte TTL (tenths of a second) then the context. */
export function ping(ttl: number, context: Buffer): Buffer {
  const t = Buffer.alloc(2);
  t.writeUInt16BE(ttl);
  return command('PING', Buffer.concat([t, context]));
}
