import { TestApp } from '../support/test-app';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
describe('probe', () => {
  let app: TestApp; let admin: string;
  beforeAll(async () => { app = await TestApp.start(); admin = await app.adminToken(); });
  afterAll(() => app.stop());
  it('idem at quota edge', async () => {
    const u = await app.registerUser();
    await app.put('/admin/plans/free', { executions_per_day: 1 }, { token: admin });
    const rs = await Promise.all([1,2,3,4].map(() => app.post('/execute', { code: 'print(1)' }, { token: u.token, headers: { 'idempotency-key': 'k' } })));
    console.log(rs.map((r) => [r.status, r.body.id ?? r.body.error?.code]));
    await app.put('/admin/plans/free', { executions_per_day: 100 }, { token: admin });
  });
  it('memory', async () => {
    const u = await app.registerUser();
    const r = await app.post('/execute', { code: 'x = bytearray(200*1024*1024)\nprint(len(x))', memory_mb: 64 }, { token: u.token });
    console.log(r.status, JSON.stringify(r.body).slice(0, 400));
  });
  it('executions with api key', async () => {
    const u = await app.registerUser();
    const k = await app.post('/api-keys', { name: 'k', scopes: ['*'] }, { token: u.token });
    const r = await app.get('/executions', { apiKey: k.body.key });
    console.log(r.status, JSON.stringify(r.body).slice(0, 300));
  });
  it('sse disconnect', async () => {
    const u = await app.registerUser();
    await app.put(`/admin/users/${u.id}`, { level: 'premium' }, { token: admin });
    const ac = new AbortController();
    const res = await fetch(`${app.url}/api/v1/execute/stream`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${u.token}` }, body: JSON.stringify({ code: 'import time\nprint("x", flush=True)\ntime.sleep(20)' }), signal: ac.signal });
    const reader = res.body!.getReader();
    const first = await reader.read();
    const text = new TextDecoder().decode(first.value);
    console.log('first chunk', text);
    const id = JSON.parse(text.split('\n')[0].slice(5)).id;
    await sleep(500);
    ac.abort();
    await sleep(1500);
    const r = await app.get(`/executions/${id}`, { token: u.token });
    console.log('after disconnect', r.body.status);
  });
  it('max concurrent 0', async () => {
    const u = await app.registerUser();
    await app.put('/admin/plans/free', { max_concurrent_executions: 0 }, { token: admin });
    const r = await Promise.race([app.post('/execute', { code: 'print(1)' }, { token: u.token }), sleep(8000).then(() => 'HANG')]);
    console.log('cap0', typeof r === 'string' ? r : [r.status, JSON.stringify(r.body).slice(0, 300)]);
    await app.put('/admin/plans/free', { max_concurrent_executions: 1 }, { token: admin });
  });
});
