import zlib from 'node:zlib';

/**
 * A PNG whose header declares width × height (grey or RGB, 8-bit) with an all-zero IDAT of `idatBytes` before
 * compression: a decompression bomb's header for small sizes, a real decodable all-zero image when `idatBytes`
 * covers every row (height × (1 + width × channels)). Used by the hostile-upload tests and `web:abuse`.
 */
export function pngHeader(width: number, height: number, { channels = 1, idatBytes = 1024 }: { channels?: 1 | 3; idatBytes?: number } = {}): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, channels === 3 ? 2 : 0, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.alloc(idatBytes))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
