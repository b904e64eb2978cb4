import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { expectError } from '../support/expectations';
import { TestApp } from '../support/test-app';

/**
 * Avatars, end to end: POST /profile/upload-avatar (multipart, JWT only),
 * GET /avatars/:filename (public, cached by ETag), DELETE /profile/avatar.
 * Real images made with sharp: each is served re-encoded (WebP, upright,
 * first frame, within 512×512, no metadata); anything that is not a PNG, JPEG,
 * WebP or GIF by its bytes, or does not decode, is refused; the blob of a
 * replaced or deleted avatar is released and its bytes deleted.
 */

type User = Awaited<ReturnType<TestApp['registerUser']>>;

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

const AVATAR_URL = /^\/api\/v1\/avatars\/[0-9a-f]{64}\.webp$/;

/** A w×h image of one colour, encoded by `encode`. */
function solid(width: number, height: number, colour: string) {
  return sharp({ create: { width, height, channels: 3, background: colour } });
}

/** A PNG whose header declares 30000×30000 pixels (900 megapixels), in a few hundred bytes. */
function pixelBomb(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed));
    return Buffer.concat([length, typed, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(30_000, 0);
  header.writeUInt32BE(30_000, 4);
  header[8] = 8; // bit depth; colour type 0 (grey), compression, filter, interlace 0
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.alloc(30_001 * 8))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('Avatars (/api/v1/profile/upload-avatar, /profile/avatar, /avatars/:filename)', () => {
  let app: TestApp;
  let alice: User;
  let bob: User;
  let png: Buffer;

  beforeAll(async () => {
    app = await TestApp.start();
    [alice, bob] = [await app.registerUser(), await app.registerUser()];
    png = await solid(800, 600, '#cc3300').png().toBuffer();
  });
  afterAll(() => app.stop());

  async function upload(token: string | undefined, bytes: Uint8Array, options: { filename?: string; type?: string; field?: string } = {}): Promise<Answer> {
    const form = new FormData();
    form.append('note', 'a text field is ignored');
    form.append(options.field ?? 'avatar', new Blob([bytes], { type: options.type ?? 'image/png' }), options.filename ?? 'me.png');
    const response = await fetch(`${app.url}/api/v1/profile/upload-avatar`, {
      method: 'POST',
      headers: token ? { authorization: `Bearer ${token}` } : {},
      body: form,
    });
    return { status: response.status, headers: response.headers, body: await response.json() };
  }

  async function download(url: string, headers: Record<string, string> = {}): Promise<Answer & { bytes: Buffer }> {
    const response = await fetch(`${app.url}${url}`, { headers });
    const bytes = Buffer.from(await response.arrayBuffer());
    const json = (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(bytes.toString()) : undefined;
    return { status: response.status, headers: response.headers, body: json, bytes };
  }

  /** Uploads `bytes` as the user's avatar and returns the URL and the blob behind it. */
  async function setAvatar(user: User, bytes: Uint8Array, options?: { filename?: string; type?: string; field?: string }) {
    const response = await upload(user.token, bytes, options);
    expect([response.status, response.body]).toEqual([200, { avatar_url: expect.stringMatching(AVATAR_URL) }]);
    const hash = await blobOf(user);
    return { url: response.body.avatar_url as string, hash: hash! };
  }

  async function blobOf(user: User): Promise<string | undefined> {
    const { rows } = await app.query(`SELECT blob_hash FROM avatars WHERE user_id = $1`, [user.id]);
    return rows[0]?.blob_hash;
  }

  async function blobRow(hash: string): Promise<{ ref_count: number } | undefined> {
    const { rows } = await app.query(`SELECT ref_count FROM blobs WHERE hash = $1`, [hash]);
    return rows[0];
  }

  const blobFile = (hash: string) => join(app.running.config.dataDir, 'files', hash.slice(0, 2), hash.slice(2, 4), hash);
  const stagingDir = () => join(app.running.config.dataDir, 'files', '.staging');

  async function served(url: string) {
    const response = await download(url);
    expect(response.status).toBe(200);
    return { response, metadata: await sharp(response.bytes).metadata() };
  }

  describe('POST /profile/upload-avatar', () => {
    it('re-encodes a PNG as WebP within 512×512, sets avatar_url (GET /users/me) and stores it as a blob', async () => {
      // Read first, so a cached profile would show if the upload did not drop it.
      expect((await app.get('/users/me', { token: alice.token })).body.avatar_url).toBeNull();
      const { url, hash } = await setAvatar(alice, png);
      expect((await app.get('/users/me', { token: alice.token })).body.avatar_url).toBe(url);

      const { response, metadata } = await served(url);
      expect(metadata).toMatchObject({ format: 'webp', width: 512, height: 384 });
      expect(response.bytes.equals(png)).toBe(false);
      expect(await blobRow(hash)).toEqual({ ref_count: 1 });
      expect(existsSync(blobFile(hash))).toBe(true);
      const { rows } = await app.query(`SELECT filename, mime_type FROM avatars WHERE user_id = $1`, [alice.id]);
      expect(rows).toEqual([{ filename: url.split('/').pop(), mime_type: 'image/webp' }]);
      // Nothing of the request is left in staging.
      expect(readdirSync(stagingDir())).toEqual([]);
    });

    it('turns a JPEG upright by its EXIF orientation, and strips the EXIF', async () => {
      // 300×100, red left half, blue right half; orientation 6: shown turned 90° clockwise (100×300, red on top).
      const raw = Buffer.alloc(300 * 100 * 3);
      for (let y = 0; y < 100; y++) for (let x = 0; x < 300; x++) raw.set(x < 150 ? [255, 0, 0] : [0, 0, 255], (y * 300 + x) * 3);
      const jpeg = await sharp(raw, { raw: { width: 300, height: 100, channels: 3 } })
        .withExif({ IFD0: { Copyright: 'Secret Co', ImageDescription: 'taken at home' } })
        .withMetadata({ orientation: 6 })
        .jpeg()
        .toBuffer();
      expect((await sharp(jpeg).metadata()).orientation).toBe(6);

      const { url } = await setAvatar(bob, jpeg, { filename: 'photo.jpg', type: 'image/jpeg' });
      const { response, metadata } = await served(url);
      expect(metadata).toMatchObject({ format: 'webp', width: 100, height: 300 });
      expect(metadata.orientation).toBeUndefined();
      expect(metadata.exif).toBeUndefined();
      expect(response.bytes.includes('Secret Co')).toBe(false);
      const { data, info } = await sharp(response.bytes).raw().toBuffer({ resolveWithObject: true });
      const pixel = (x: number, y: number) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)];
      const [top, bottom] = [pixel(50, 30), pixel(50, 270)];
      expect(top[0]).toBeGreaterThan(200);
      expect(top[2]).toBeLessThan(50);
      expect(bottom[2]).toBeGreaterThan(200);
      expect(bottom[0]).toBeLessThan(50);
    });

    it('keeps the first frame only of an animated GIF (also accepted as the part "file")', async () => {
      const side = 64;
      const frames = [[255, 0, 0], [0, 255, 0], [0, 0, 255]];
      const raw = Buffer.alloc(side * side * 3 * frames.length);
      frames.forEach((colour, frame) => {
        for (let i = 0; i < side * side; i++) raw.set(colour, (frame * side * side + i) * 3);
      });
      const gif = await sharp(raw, { raw: { width: side, height: side * frames.length, channels: 3, pageHeight: side } }).gif({ delay: 100 }).toBuffer();
      expect((await sharp(gif, { animated: true }).metadata()).pages).toBe(3);

      const user = await app.registerUser();
      const { url } = await setAvatar(user, gif, { filename: 'dance.gif', type: 'image/gif', field: 'file' });
      const { response, metadata } = await served(url);
      expect(metadata).toMatchObject({ format: 'webp', width: side, height: side });
      expect(metadata.pages ?? 1).toBe(1);
      const { data } = await sharp(response.bytes).raw().toBuffer({ resolveWithObject: true });
      expect(data[0]).toBeGreaterThan(200); // red: the first frame
      expect(data[1]).toBeLessThan(50);
    });

    it('scales a 4000×3000 photo down to 512×384 and strips its metadata (EXIF, ICC profile)', async () => {
      const photo = await solid(4000, 3000, '#336699').withExif({ IFD0: { Copyright: 'Secret Co' } }).keepIccProfile().jpeg().toBuffer();
      const before = await sharp(photo).metadata();
      expect([before.width, before.height, Boolean(before.exif)]).toEqual([4000, 3000, true]);

      const user = await app.registerUser();
      const { url } = await setAvatar(user, photo, { filename: 'big.jpg', type: 'image/jpeg' });
      const { metadata } = await served(url);
      expect(metadata).toMatchObject({ format: 'webp', width: 512, height: 384 });
      expect([metadata.exif, metadata.icc, metadata.xmp, metadata.iptc]).toEqual([undefined, undefined, undefined, undefined]);
    });

    it('answers 401 without credentials, 403 to an API key (JWT only), and 400 without an image or with two', async () => {
      expectError(await upload(undefined, png), 401, 'UNAUTHORIZED');

      const user = await app.registerUser();
      const key = await app.post('/api-keys', { name: 'profile', scopes: ['profile:read'] }, { token: user.token });
      expect(key.status).toBe(201);
      const form = new FormData();
      form.append('avatar', new Blob([png], { type: 'image/png' }), 'me.png');
      const byKey = await fetch(`${app.url}/api/v1/profile/upload-avatar`, { method: 'POST', headers: { 'x-api-key': key.body.key }, body: form });
      expectError({ status: byKey.status, headers: byKey.headers, body: await byKey.json() }, 403, 'FORBIDDEN');

      const noImage = new FormData();
      noImage.append('note', 'no file here');
      const empty = await fetch(`${app.url}/api/v1/profile/upload-avatar`, { method: 'POST', headers: { authorization: `Bearer ${user.token}` }, body: noImage });
      expectError({ status: empty.status, headers: empty.headers, body: await empty.json() }, 400, 'BAD_REQUEST');

      const two = new FormData();
      two.append('avatar', new Blob([png], { type: 'image/png' }), 'a.png');
      two.append('avatar', new Blob([png], { type: 'image/png' }), 'b.png');
      const twice = await fetch(`${app.url}/api/v1/profile/upload-avatar`, { method: 'POST', headers: { authorization: `Bearer ${user.token}` }, body: two });
      expectError({ status: twice.status, headers: twice.headers, body: await twice.json() }, 400, 'BAD_REQUEST');

      expectError(await upload(user.token, png, { field: 'picture' }), 400, 'BAD_REQUEST');
      // A JSON body is not an upload.
      expectError(await app.post('/profile/upload-avatar', { avatar: 'x' }, { token: user.token }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect((await app.get('/users/me', { token: user.token })).body.avatar_url).toBeNull();
      expect(await blobOf(user)).toBeUndefined();
    });

    it('answers 400 to a malformed multipart body', async () => {
      const user = await app.registerUser();
      const head = '------x\r\nContent-Disposition: form-data; name="avatar"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n';
      const bodies: Array<[string, string]> = [
        ['multipart/form-data; boundary=----x', '{"a":1}'],
        ['multipart/form-data', `${head}data\r\n------x--\r\n`],
        ['multipart/form-data; boundary=----x', `${head}cut short`],
        ['multipart/form-data; boundary=----x', '------x\r\nContent-Disposition: form-data\r\n\r\nno name\r\n------x--\r\n'],
        ['multipart/form-data; boundary=', `${head}data\r\n------x--\r\n`],
        [`multipart/form-data; boundary=${'x'.repeat(300)}`, `${head}data\r\n------x--\r\n`],
      ];
      for (const [contentType, body] of bodies) {
        const response = await app.post('/profile/upload-avatar', body, { token: user.token, headers: { 'content-type': contentType } });
        expect([contentType, body, response.status]).toEqual([contentType, body, 400]);
        expect(response.body.error.code).toBe('BAD_REQUEST');
      }
      expect(readdirSync(stagingDir())).toEqual([]);
    });

    it('answers 413 FILE_TOO_LARGE to a 3 MB upload, and the client receives it (no connection reset)', async () => {
      const user = await app.registerUser();
      const huge = Buffer.concat([png, Buffer.alloc(3 * 1024 * 1024, 7)]);
      const response = await upload(user.token, huge);
      expectError(response, 413, 'FILE_TOO_LARGE');
      expect(response.body.error.details).toMatchObject({ limit_bytes: 2 * 1024 * 1024 });
      // Refused before a byte of it is read: the answer still arrives.
      expectError(await upload(undefined, huge), 401, 'UNAUTHORIZED');
      // The connection stays usable, and nothing was stored or left behind.
      expect((await upload(user.token, png)).status).toBe(200);
      expect(readdirSync(stagingDir())).toEqual([]);
    });

    it('answers 415 INVALID_FILE_TYPE to a text file named .png, an SVG, a truncated PNG and a pixel bomb', async () => {
      const user = await app.registerUser();
      const text = await upload(user.token, Buffer.from('just some text, honestly a PNG\n'), { filename: 'fake.png' });
      expectError(text, 415, 'INVALID_FILE_TYPE');
      expect(text.body.error.details).toEqual({ mime_type: 'text/plain' });

      const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>';
      expectError(await upload(user.token, Buffer.from(svg), { filename: 'icon.svg', type: 'image/svg+xml' }), 415, 'INVALID_FILE_TYPE');
      expectError(await upload(user.token, Buffer.from(svg), { filename: 'icon.png', type: 'image/png' }), 415, 'INVALID_FILE_TYPE');

      const noisy = await sharp(Buffer.from(Array.from({ length: 200 * 200 * 3 }, (_, i) => (i * 7919) % 251)), { raw: { width: 200, height: 200, channels: 3 } })
        .png()
        .toBuffer();
      expectError(await upload(user.token, noisy.subarray(0, noisy.length >> 1)), 415, 'INVALID_FILE_TYPE');

      const bomb = await upload(user.token, pixelBomb(), { filename: 'bomb.png' });
      expectError(bomb, 415, 'INVALID_FILE_TYPE');
      expect(bomb.body.error.message).toMatch(/pixel limit/);
      expect(bomb.body.error.message).not.toContain(app.running.config.dataDir);

      expect(await blobOf(user)).toBeUndefined();
      expect(readdirSync(stagingDir())).toEqual([]);
    });

    it('replacing the avatar releases the old blob: its row and its bytes are gone, its URL answers 404', async () => {
      const user = await app.registerUser();
      const first = await setAvatar(user, await solid(100, 100, '#00aa00').png().toBuffer());
      const second = await setAvatar(user, await solid(100, 100, '#0000aa').png().toBuffer());
      expect(second.hash).not.toBe(first.hash);
      expect(second.url).not.toBe(first.url);

      expect(await blobRow(first.hash)).toBeUndefined();
      expect(existsSync(blobFile(first.hash))).toBe(false);
      expect(await blobRow(second.hash)).toEqual({ ref_count: 1 });
      expect(existsSync(blobFile(second.hash))).toBe(true);
      expectError(await download(first.url), 404, 'NOT_FOUND');
      expect((await download(second.url)).status).toBe(200);
      expect((await app.get('/users/me', { token: user.token })).body.avatar_url).toBe(second.url);

      // The same picture again: one holder still, nothing released.
      const again = await setAvatar(user, await solid(100, 100, '#0000aa').png().toBuffer());
      expect(again).toEqual(second);
      expect(await blobRow(second.hash)).toEqual({ ref_count: 1 });
    });

    it('two users with the same picture share its blob but each has a name of their own', async () => {
      const [carol, dave] = [await app.registerUser(), await app.registerUser()];
      const picture = await solid(120, 90, '#abcdef').png().toBuffer();
      const [c, d] = [await setAvatar(carol, picture), await setAvatar(dave, picture)];
      expect(c.hash).toBe(d.hash);
      expect(c.url).not.toBe(d.url);
      expect(await blobRow(c.hash)).toEqual({ ref_count: 2 });

      expect((await app.delete('/profile/avatar', { token: carol.token })).status).toBe(200);
      expect(await blobRow(c.hash)).toEqual({ ref_count: 1 });
      expect(existsSync(blobFile(c.hash))).toBe(true);
      expectError(await download(c.url), 404, 'NOT_FOUND');
      expect((await download(d.url)).status).toBe(200);
    });

    it('records the upload in the audit log with the stored size and hash, never the contents', async () => {
      const user = await app.registerUser();
      const { url, hash } = await setAvatar(user, png);
      const { rows } = await app.query(`SELECT action, resource_type, resource_id, status_code, metadata FROM audit_logs WHERE user_id = $1 AND action = 'avatar.upload'`, [
        user.id,
      ]);
      expect(rows).toHaveLength(1);
      const { rows: sizes } = await app.query(`SELECT size FROM blobs WHERE hash = $1`, [hash]);
      expect(rows[0]).toMatchObject({ resource_type: 'avatar', resource_id: url.split('/').pop(), status_code: 200 });
      expect(rows[0].metadata).toEqual({ size: Number(sizes[0].size), hash });
    });
  });

  describe('GET /avatars/:filename', () => {
    it('serves the image publicly with its type, length, a strong ETag and a year of immutable caching; If-None-Match → 304', async () => {
      const user = await app.registerUser();
      const { url, hash } = await setAvatar(user, png);
      const response = await download(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/webp');
      expect(response.headers.get('content-length')).toBe(String(response.bytes.length));
      expect(response.headers.get('etag')).toBe(`"${hash}"`);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const { rows } = await app.query(`SELECT size FROM blobs WHERE hash = $1`, [hash]);
      expect(response.bytes.length).toBe(Number(rows[0].size));

      for (const tag of [`"${hash}"`, `W/"${hash}"`, `"other", "${hash}"`, '*']) {
        const cached = await download(url, { 'if-none-match': tag });
        expect([tag, cached.status, cached.bytes.length]).toEqual([tag, 304, 0]);
        expect(cached.headers.get('etag')).toBe(`"${hash}"`);
        expect(cached.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      }
      expect((await download(url, { 'if-none-match': '"something-else"' })).status).toBe(200);
    });

    it('answers 404 to an unknown name, and to anything that is not an avatar name (without caching headers)', async () => {
      for (const name of [`${'0'.repeat(64)}.webp`, 'nope', `${'A'.repeat(64)}.webp`, `${'0'.repeat(64)}.png`, '..%2F..%2Fetc%2Fpasswd']) {
        const response = await download(`/api/v1/avatars/${name}`);
        expectError(response, 404, 'NOT_FOUND');
        expect(response.headers.get('cache-control') ?? '').not.toContain('immutable');
      }
    });
  });

  describe('DELETE /profile/avatar', () => {
    it('removes the avatar: row, blob and bytes gone, avatar_url null; a second delete is no error', async () => {
      const user = await app.registerUser();
      const { url, hash } = await setAvatar(user, await solid(64, 64, '#123456').png().toBuffer());
      const response = await app.delete('/profile/avatar', { token: user.token });
      expect([response.status, response.body]).toEqual([200, { success: true }]);
      expect(await blobOf(user)).toBeUndefined();
      expect(await blobRow(hash)).toBeUndefined();
      expect(existsSync(blobFile(hash))).toBe(false);
      expect((await app.get('/users/me', { token: user.token })).body.avatar_url).toBeNull();
      expectError(await download(url), 404, 'NOT_FOUND');

      const { rows } = await app.query(`SELECT metadata FROM audit_logs WHERE user_id = $1 AND action = 'avatar.delete'`, [user.id]);
      expect(rows.map((row) => row.metadata)).toEqual([{ size: expect.any(Number), hash }]);

      expect((await app.delete('/profile/avatar', { token: user.token })).body).toEqual({ success: true });
      expectError(await app.delete('/profile/avatar'), 401, 'UNAUTHORIZED');
    });
  });
});
