import { QueryBus } from '@nestjs/cqrs';
import { GetProfileQuery } from '../../src/modules/identity/queries/get-profile.query';
import { GetUserCardsQuery } from '../../src/modules/identity/queries/get-user-cards.query';
import { SearchUsersQuery } from '../../src/modules/identity/queries/search-users.query';
import { expectError, expectValidation } from '../support/expectations';
import { TestApp } from '../support/test-app';

/**
 * Profiles, end to end: GET and PUT /profile (JWT only: an API key answers
 * 403), what PUT accepts and refuses, its audit entry (field names, never
 * values), that GET /users/me shows a change at once; and the queries other
 * contexts send through the QueryBus: GetUserCardsQuery, GetProfileQuery and
 * SearchUsersQuery (a private profile is found by its username, never by its
 * name; the search is served by the pg_trgm indexes).
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const PROFILE_FIELDS = [
  'id', 'username', 'email', 'name', 'bio', 'website', 'location', 'company', 'github', 'avatar_url', 'is_public', 'created_at', 'updated_at',
].sort();
const CARD_FIELDS = ['id', 'username', 'name', 'avatar_url', 'is_public'].sort();

type User = Awaited<ReturnType<TestApp['registerUser']>>;

function expectProfileShape(body: any, expected: Record<string, unknown> = {}): void {
  expect(Object.keys(body).sort()).toEqual(PROFILE_FIELDS);
  expect(body.id).toMatch(UUID);
  expect(body.created_at).toMatch(ISO);
  expect(body.updated_at).toMatch(ISO);
  expect(body).toMatchObject(expected);
}

/** A fresh lowercase token, so that searches find only this test's users. */
const token = () => `pq${Math.random().toString(36).slice(2, 8)}`;

describe('Profile (/api/v1/profile)', () => {
  let app: TestApp;
  let queries: QueryBus;
  let admin: string;
  let alice: User;

  beforeAll(async () => {
    app = await TestApp.start();
    queries = app.running.app.get(QueryBus);
    admin = await app.adminToken();
    alice = await app.registerUser();
  });
  afterAll(async () => {
    await app.stop();
  });

  async function setStatus(userId: string, status: 'active' | 'disabled' | 'deleted'): Promise<void> {
    const response = await app.put(`/admin/users/${userId}`, { status }, { token: admin });
    expect(response.status).toBe(200);
  }

  describe('GET /profile', () => {
    it('shows the defaults after registering', async () => {
      const user = await app.registerUser();
      const response = await app.get('/profile', { token: user.token });
      expect(response.status).toBe(200);
      expectProfileShape(response.body, {
        id: user.id, username: user.username, email: user.email,
        name: null, bio: null, website: null, location: null, company: null, github: null, avatar_url: null, is_public: true,
      });
    });

    it('shows the name given at registration', async () => {
      const response = await app.post('/auth/register', { username: `${token()}_named`, email: `${token()}@example.test`, password: 'password-123', name: 'Ada Lovelace' });
      expect(response.status).toBe(201);
      const profile = await app.get('/profile', { token: response.body.tokens.access });
      expect(profile.body.name).toBe('Ada Lovelace');
    });

    it('400 for a query parameter', async () => {
      expectValidation(await app.get('/profile?name=x', { token: alice.token }), 'name');
    });

    it('401 without credentials', async () => {
      expectError(await app.get('/profile'), 401, 'UNAUTHORIZED');
    });
  });

  describe('PUT /profile', () => {
    let user: User;
    beforeAll(async () => {
      user = await app.registerUser();
    });

    it.each([
      ['name', 'Grace Hopper'],
      ['bio', 'Wrote the first compiler.\nAlso: COBOL.'],
      ['website', 'https://example.com/~grace?tab=1#top'],
      ['website', 'http://192.0.2.1:8080/'],
      ['location', 'Arlington, Virginia'],
      ['company', 'US Navy'],
      ['github', 'grace-hopper'],
      ['github', 'g'],
      ['github', 'a'.repeat(39)],
      ['is_public', false],
      ['is_public', true],
    ])('sets %s to %j', async (field, value) => {
      const response = await app.put('/profile', { [field]: value }, { token: user.token });
      expect(response.status).toBe(200);
      expectProfileShape(response.body, { id: user.id, [field]: value });
      const read = await app.get('/profile', { token: user.token });
      expect(read.body).toEqual(response.body);
    });

    it('changes only the fields sent, trims text, and moves updated_at', async () => {
      const before = (await app.put('/profile', { name: 'Before', bio: 'kept', company: 'Kept Co' }, { token: user.token })).body;
      await new Promise((resolve) => setTimeout(resolve, 10));
      const response = await app.put('/profile', { name: '  Trimmed Name  ', location: '\t Paris \n' }, { token: user.token });
      expect(response.status).toBe(200);
      expectProfileShape(response.body, { name: 'Trimmed Name', location: 'Paris', bio: 'kept', company: 'Kept Co' });
      expect(Date.parse(response.body.updated_at)).toBeGreaterThan(Date.parse(before.updated_at));
      expect(response.body.created_at).toBe(before.created_at);
    });

    it('an empty body changes nothing', async () => {
      const before = (await app.get('/profile', { token: user.token })).body;
      const response = await app.put('/profile', {}, { token: user.token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual(before);
    });

    it.each([
      ['null', null],
      ['an empty text', ''],
      ['blanks only', '   '],
    ])('clears every text field with %s (stored as NULL)', async (_name, value) => {
      const filled = { name: 'N', bio: 'B', website: 'https://example.org', location: 'L', company: 'C', github: 'octocat' };
      expect((await app.put('/profile', filled, { token: user.token })).body).toMatchObject(filled);
      const cleared = Object.fromEntries(Object.keys(filled).map((field) => [field, value]));
      const response = await app.put('/profile', cleared, { token: user.token });
      expect(response.status).toBe(200);
      expectProfileShape(response.body, { name: null, bio: null, website: null, location: null, company: null, github: null });
      const { rows } = await app.query('SELECT name, bio, website, location, company, github FROM users WHERE id = $1', [user.id]);
      expect(rows[0]).toEqual({ name: null, bio: null, website: null, location: null, company: null, github: null });
    });

    it.each([
      ['website javascript:', { website: 'javascript:alert(1)' }, 'website'],
      ['website ftp:', { website: 'ftp://example.com/file' }, 'website'],
      ['website data:', { website: 'data:text/html,<script>alert(1)</script>' }, 'website'],
      ['relative website', { website: '/users/me' }, 'website'],
      ['website without a scheme', { website: 'example.com' }, 'website'],
      ['website protocol-relative', { website: '//example.com' }, 'website'],
      ['website with credentials', { website: 'https://user:secret@example.com' }, 'website'],
      ['website with a user name', { website: 'https://user@example.com' }, 'website'],
      ['website with a control character', { website: 'https://example.com/\u0000' }, 'website'],
      ['too-long website', { website: `https://example.com/${'a'.repeat(181)}` }, 'website'],
      ['website not a string', { website: 42 }, 'website'],
      ['github starting with a hyphen', { github: '-octocat' }, 'github'],
      ['github ending with a hyphen', { github: 'octocat-' }, 'github'],
      ['github with two hyphens in a row', { github: 'octo--cat' }, 'github'],
      ['github with an underscore', { github: 'octo_cat' }, 'github'],
      ['github with an @', { github: '@octocat' }, 'github'],
      ['github as a URL', { github: 'https://github.com/octocat' }, 'github'],
      ['too-long github', { github: 'a'.repeat(40) }, 'github'],
      ['too-long name', { name: 'x'.repeat(101) }, 'name'],
      ['too-long bio', { bio: 'x'.repeat(501) }, 'bio'],
      ['too-long location', { location: 'x'.repeat(101) }, 'location'],
      ['too-long company', { company: 'x'.repeat(101) }, 'company'],
      ['name with a line break', { name: 'Ada\nLovelace' }, 'name'],
      ['name with NUL', { name: 'Ada\u0000' }, 'name'],
      ['name with a right-to-left override', { name: 'Ada\u202eecalevoL' }, 'name'],
      ['location with an escape', { location: 'Lon\u001b[31mdon' }, 'location'],
      ['company with a C1 control', { company: 'Co\u0085rp' }, 'company'],
      ['bio with a bell', { bio: 'ding\u0007' }, 'bio'],
      ['name not a string', { name: 7 }, 'name'],
      ['is_public null', { is_public: null }, 'is_public'],
      ['is_public not a boolean', { is_public: 'true' }, 'is_public'],
      ['unknown field', { nickname: 'ada' }, 'nickname'],
      ['avatar_url (set by uploading an avatar)', { avatar_url: 'https://example.com/a.png' }, 'avatar_url'],
      ['email (not a profile field)', { email: 'other@example.test' }, 'email'],
    ])('400 for %s', async (_name, body, field) => {
      const before = (await app.get('/profile', { token: user.token })).body;
      expectValidation(await app.put('/profile', body, { token: user.token }), field);
      expect((await app.get('/profile', { token: user.token })).body).toEqual(before);
    });

    it('400 for a body that is not an object', async () => {
      expectValidation(await app.put('/profile', [], { token: user.token }), 'body');
    });

    it('keeps characters a name or bio may hold', async () => {
      const body = { name: 'Zoë Ødegård-李 😀', bio: 'line one\r\n\tline two', location: 'São Paulo' };
      const response = await app.put('/profile', body, { token: user.token });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject(body);
    });

    it('401 without credentials', async () => {
      expectError(await app.put('/profile', { name: 'x' }), 401, 'UNAUTHORIZED');
    });

    it('answers 403 to an API key, whatever its scopes (a profile takes a user login)', async () => {
      const owner = await app.registerUser();
      const key = await app.post('/api-keys', { name: 'all', scopes: ['*'] }, { token: owner.token });
      expect(key.status).toBe(201);
      expectError(await app.get('/profile', { apiKey: key.body.key }), 403, 'FORBIDDEN');
      expectError(await app.put('/profile', { name: 'By Key' }, { apiKey: key.body.key }), 403, 'FORBIDDEN');
      const { rows } = await app.query('SELECT name FROM users WHERE id = $1', [owner.id]);
      expect(rows[0].name).toBeNull();
    });

    it('changes only the caller\'s own profile', async () => {
      const other = await app.registerUser();
      await app.put('/profile', { name: 'Mine Only' }, { token: user.token });
      expect((await app.get('/profile', { token: other.token })).body.name).toBeNull();
    });

    it('GET /users/me shows the new name at once (its cached copy is dropped)', async () => {
      const me = await app.get('/users/me', { token: user.token });
      expect(me.status).toBe(200);
      // Read twice so the profile is surely cached before the change.
      await app.get('/users/me', { token: user.token });
      const name = `Renamed ${token()}`;
      expect((await app.put('/profile', { name }, { token: user.token })).status).toBe(200);
      const after = await app.get('/users/me', { token: user.token });
      expect(after.body.name).toBe(name);
      expect((await app.put('/profile', { name: null }, { token: user.token })).status).toBe(200);
      expect((await app.get('/users/me', { token: user.token })).body.name).toBeNull();
    });

    it('is audited as profile.update on the user, with the names of the fields sent and never their values', async () => {
      const response = await app.put('/profile', { name: 'Audit Secret Name', bio: 'audit-secret-bio', is_public: false }, { token: user.token });
      expect(response.status).toBe(200);
      const { rows } = await app.query(
        'SELECT user_id, action, resource_type, resource_id, status_code, metadata FROM audit_logs WHERE request_id = $1',
        [response.headers.get('x-request-id')],
      );
      expect(rows).toEqual([{
        user_id: user.id, action: 'profile.update', resource_type: 'user', resource_id: user.id, status_code: 200,
        metadata: { fields: ['name', 'bio', 'is_public'] },
      }]);
      expect(JSON.stringify(rows[0])).not.toContain('secret');

      const refused = await app.put('/profile', { bio: 'refused-secret-bio', website: 'javascript:alert(1)' }, { token: user.token });
      expect(refused.status).toBe(400);
      const { rows: refusedRows } = await app.query('SELECT action, metadata FROM audit_logs WHERE request_id = $1', [refused.headers.get('x-request-id')]);
      expect(refusedRows).toEqual([{ action: 'profile.update', metadata: { error_code: 'VALIDATION_ERROR' } }]);
      await app.put('/profile', { is_public: true }, { token: user.token });
    });
  });

  describe('queries for other contexts', () => {
    describe('GetUserCardsQuery', () => {
      it('answers the cards of the users that exist and are not deleted, disabled ones included', async () => {
        const [shown, disabled, deleted] = [await app.registerUser(), await app.registerUser(), await app.registerUser()];
        await app.put('/profile', { name: 'Shown Person', is_public: false }, { token: shown.token });
        await setStatus(disabled.id, 'disabled');
        await setStatus(deleted.id, 'deleted');
        const cards = await queries.execute(new GetUserCardsQuery([shown.id, disabled.id, deleted.id, UNKNOWN_ID, 'not-a-uuid', shown.id.toUpperCase()]));
        cards.forEach((card) => expect(Object.keys(card).sort()).toEqual(CARD_FIELDS));
        const byId = [...cards].sort((a, b) => a.username.localeCompare(b.username));
        expect(byId).toEqual(
          [
            { id: shown.id, username: shown.username, name: 'Shown Person', avatar_url: null, is_public: false },
            { id: disabled.id, username: disabled.username, name: null, avatar_url: null, is_public: true },
          ].sort((a, b) => a.username.localeCompare(b.username)),
        );
      });

      it('answers [] for no ids, or none that names a user', async () => {
        expect(await queries.execute(new GetUserCardsQuery([]))).toEqual([]);
        expect(await queries.execute(new GetUserCardsQuery([UNKNOWN_ID, 'x']))).toEqual([]);
      });
    });

    describe('GetProfileQuery', () => {
      it('finds a profile by id, and by username whatever its case, with status and role', async () => {
        const user = await app.registerUser();
        await app.put('/profile', { name: 'Query Me', website: 'https://example.net', is_public: false }, { token: user.token });
        const byId = await queries.execute(new GetProfileQuery({ id: user.id }));
        expect(Object.keys(byId!).sort()).toEqual([...PROFILE_FIELDS, 'role', 'status'].sort());
        expect(byId).toMatchObject({
          id: user.id, username: user.username, email: user.email, name: 'Query Me', website: 'https://example.net', is_public: false, status: 'active', role: 'user',
        });
        expect(await queries.execute(new GetProfileQuery({ username: user.username.toUpperCase() }))).toEqual(byId);
        expect(await queries.execute(new GetProfileQuery({ username: 'admin' }))).toMatchObject({ username: 'admin', role: 'admin' });
      });

      it('answers null for a deleted user, an unknown id or username, and an id that is no UUID; a disabled user is found', async () => {
        const [deleted, disabled] = [await app.registerUser(), await app.registerUser()];
        await setStatus(deleted.id, 'deleted');
        await setStatus(disabled.id, 'disabled');
        expect(await queries.execute(new GetProfileQuery({ id: deleted.id }))).toBeNull();
        expect(await queries.execute(new GetProfileQuery({ username: deleted.username }))).toBeNull();
        expect(await queries.execute(new GetProfileQuery({ id: UNKNOWN_ID }))).toBeNull();
        expect(await queries.execute(new GetProfileQuery({ id: 'not-a-uuid' }))).toBeNull();
        expect(await queries.execute(new GetProfileQuery({ username: 'no_such_user_here' }))).toBeNull();
        // % and _ mean themselves: the lookup is an equality, not a pattern.
        expect(await queries.execute(new GetProfileQuery({ username: '%' }))).toBeNull();
        expect(await queries.execute(new GetProfileQuery({ id: disabled.id }))).toMatchObject({ id: disabled.id, status: 'disabled' });
      });
    });

    describe('SearchUsersQuery', () => {
      const t = token();
      const names = (result: { rows: Array<{ username: string }> }) => result.rows.map((row) => row.username);
      const search = (q: string, page = 1, limit = 20) => queries.execute(new SearchUsersQuery({ q, page, limit }));
      const users: Record<string, User> = {};

      beforeAll(async () => {
        for (const username of [`b_${t}`, `${t}_x`, `${t}ax`, t, `a_${t}`, `${t}zz`, `priv_${t}`, `gone_${t}`, `off_${t}`, `pubname1`, `privname1`]) {
          users[username] = await app.registerUser({ username: username === 'pubname1' || username === 'privname1' ? `${username}_${t.slice(2)}` : username });
        }
        // Names that contain t while the usernames (pubname1_…, privname1_…) do not.
        await app.put('/profile', { name: `Public ${t.toUpperCase()} Person` }, { token: users.pubname1.token });
        await app.put('/profile', { name: `Hidden ${t} Person`, is_public: false }, { token: users.privname1.token });
        await app.put('/profile', { name: 'Private By Name', is_public: false }, { token: users[`priv_${t}`].token });
        await setStatus(users[`gone_${t}`].id, 'deleted');
        await setStatus(users[`off_${t}`].id, 'disabled');
      });

      it('puts the exact username first, then usernames starting with q, then the rest by username', async () => {
        const result = await search(t);
        expect(names(result)).toEqual([
          t, `${t}_x`, `${t}ax`, `${t}zz`,
          `a_${t}`, `b_${t}`, `priv_${t}`, users.pubname1.username,
        ]);
        expect(result.total).toBe(8);
        for (const card of result.rows) expect(Object.keys(card).sort()).toEqual(CARD_FIELDS);
        expect(result.rows.find((card) => card.username === users.pubname1.username)).toEqual({
          id: users.pubname1.id, username: users.pubname1.username, name: `Public ${t.toUpperCase()} Person`, avatar_url: null, is_public: true,
        });
      });

      it('is case-insensitive', async () => {
        expect(names(await search(t.toUpperCase()))).toEqual(names(await search(t)));
        expect(names(await search(`PUBLIC ${t}`))).toEqual([users.pubname1.username]);
      });

      it('finds a private profile by its username but never by its name', async () => {
        expect(names(await search(`priv_${t}`))).toEqual([`priv_${t}`]);
        expect(names(await search('Private By Name'))).toEqual([]);
        expect(names(await search(users.privname1.username))).toEqual([users.privname1.username]);
        expect(names(await search(`Hidden ${t}`))).toEqual([]);
        // Made public, it is found by its name too.
        await app.put('/profile', { is_public: true }, { token: users.privname1.token });
        expect(names(await search(`Hidden ${t}`))).toEqual([users.privname1.username]);
        await app.put('/profile', { is_public: false }, { token: users.privname1.token });
      });

      it('leaves out deleted and disabled users', async () => {
        expect(names(await search(`gone_${t}`))).toEqual([]);
        expect(names(await search(`off_${t}`))).toEqual([]);
      });

      it('takes % and _ literally', async () => {
        // Unescaped, _ would match the a of `${t}ax` as well.
        expect(names(await search(`${t}_x`))).toEqual([`${t}_x`]);
        expect(names(await search(`${t}%`))).toEqual([]);
        expect(names(await search('%'))).toEqual([]);
      });

      it('pages, with the total of every match', async () => {
        const page2 = await search(t, 2, 3);
        expect(names(page2)).toEqual([`${t}zz`, `a_${t}`, `b_${t}`]);
        expect(page2.total).toBe(8);
        const past = await search(t, 5, 3);
        expect(past).toEqual({ rows: [], total: 8 });
      });

      it.each([
        ['an empty q', { q: '', page: 1, limit: 20 }, 'q'],
        ['a q over 100 characters', { q: 'x'.repeat(101), page: 1, limit: 20 }, 'q'],
        ['page 0', { q: 'x', page: 0, limit: 20 }, 'page'],
        ['limit 0', { q: 'x', page: 1, limit: 0 }, 'limit'],
        ['limit 101', { q: 'x', page: 1, limit: 101 }, 'limit'],
      ])('refuses %s', async (_name, input, field) => {
        await expect(queries.execute(new SearchUsersQuery(input))).rejects.toMatchObject({ code: 'VALIDATION_ERROR', details: { fields: { [field]: expect.any(Array) } } });
      });

      it('accepts a q of 100 characters', async () => {
        expect(await search('x'.repeat(100))).toEqual({ rows: [], total: 0 });
      });

      it('over many users is served by the pg_trgm indexes, not a sequential scan', async () => {
        await app.query(
          `INSERT INTO users (username, email, name, password_hash, is_public)
           SELECT 'bulk_' || i || '_' || left(md5(i::text), 8), 'bulk_' || i || '@example.test', 'Bulk Person ' || md5(i::text), 'x', i % 2 = 0
           FROM generate_series(1, 20000) AS i`,
        );
        const needle = await app.registerUser({ username: `zebrafish_${t}` });
        await app.put('/profile', { name: 'Quagga Keeper' }, { token: needle.token });
        // VACUUM moves the rows out of the GIN pending list (autovacuum does this in production) and ANALYZE gives the planner statistics.
        await app.query('VACUUM ANALYZE users');

        expect(names(await search('ZEBRAFISH'))).toEqual([needle.username]);
        expect(names(await search('quagga'))).toEqual([needle.username]);

        // The match UserRepository.searchCards uses, for rows and for the total.
        const { rows } = await app.query(
          `EXPLAIN (FORMAT JSON) SELECT id FROM users
           WHERE status = 'active' AND (lower(username) ILIKE $1 OR (is_public AND lower(name) ILIKE $1))`,
          ['%zebrafish%'],
        );
        const plan = JSON.stringify(rows[0]['QUERY PLAN']);
        expect(plan).not.toContain('Seq Scan');
        for (const index of ['users_username_trgm_idx', 'users_name_trgm_idx']) expect(plan).toContain(index);
      });
    });
  });
});
