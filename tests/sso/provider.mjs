// The test suite's OpenID provider: panva's certified oidc-provider, started by tests/sso/conftest.py.
//
//   node tests/sso/provider.mjs <port>
//
// Clients register through the provider's own dynamic registration (RFC 7591, POST /reg). People are
// set by the tests with PUT /_test/accounts/<login> (a JSON object of claims: email, email_verified, name);
// anyone signs in at the development login form by typing their login (any password). The ID token
// carries only `sub` (conformIdTokenClaims): e-mail and name come from the userinfo endpoint.
import { Provider } from 'oidc-provider';

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const accounts = new Map();

const provider = new Provider(issuer, {
  features: { registration: { enabled: true }, devInteractions: { enabled: true } },
  scopes: ['openid', 'email', 'profile'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  cookies: { keys: ['storia-test-provider-cookie-key'] },
  async findAccount(ctx, sub) {
    return { accountId: sub, async claims() { return { sub, ...(accounts.get(sub) ?? {}) }; } };
  },
});

provider.use(async (ctx, next) => {
  if (ctx.path === '/favicon.ico') {  // a browser asks; a 404 would be a console error in the browser tests
    ctx.status = 204;
    return;
  }
  const match = ctx.path.match(/^\/_test\/accounts\/([^/]+)$/);
  if (match && ctx.method === 'PUT') {
    let body = '';
    for await (const chunk of ctx.req) body += chunk;
    accounts.set(decodeURIComponent(match[1]), JSON.parse(body));
    ctx.status = 204;
    return;
  }
  await next();
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
