// A real OpenID provider (the certified npm package oidc-provider) on loopback, for
// tests/api/oidc.rs. Each start has fresh signing keys, so a restart on the same port is a key
// rotation. Environment:
//   PORT                  the port to listen on (127.0.0.1)
//   CLOCK_OFFSET_SECONDS  shifts the provider's clock (negative: its tokens are already expired)
// Clients (client_credentials, client_secret_post, RFC 9068 JWT access tokens for any urn:
// resource, RFC 8707):
//   kikaku-system   groups ["all-staff", "kikaku"], RS256
//   kosodate-system groups ["all-staff", "kosodate"], ES256
//   stranger-system groups ["contractors"], RS256
// With WEB_ORIGIN (the test server's http://127.0.0.1:PORT), also the web view's client (the
// authorization code flow of tests/api/oidc_login.rs):
//   kpi-web  secret kpi-web-secret (client_secret_basic), PKCE S256 required, redirect URI
//            WEB_ORIGIN/api/v1/auth/oidc/callback, post-logout redirect URI WEB_ORIGIN/
// and its users log in on the provider's development login page (any password; the login is
// the account id). Their groups: the login's part before the first "-" (kikaku-taro: ["kikaku"]),
// with "all-staff". ID tokens carry the claims the client asks for with the claims parameter.
// It prints "ready <issuer>" once it listens.
import { generateKeyPairSync, randomUUID } from 'node:crypto';

const offsetMs = Number(process.env.CLOCK_OFFSET_SECONDS || 0) * 1000;
if (offsetMs !== 0) {
  const realNow = Date.now;
  Date.now = () => realNow() + offsetMs;
}
// Imported after the clock is set: the provider reads Date.now for iat and exp.
const { default: Provider } = await import('oidc-provider');

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;

function signingKey(type, options, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg, use: 'sig' };
}

const groups = {
  'kikaku-system': ['all-staff', 'kikaku'],
  'kosodate-system': ['all-staff', 'kosodate'],
  'stranger-system': ['contractors'],
};
const algorithms = { 'kosodate-system': 'ES256' };

const client = (clientId) => ({
  client_id: clientId,
  client_secret: `${clientId}-secret`,
  grant_types: ['client_credentials'],
  redirect_uris: [],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_post',
});

const webOrigin = process.env.WEB_ORIGIN;
const webClient = webOrigin && {
  client_id: 'kpi-web',
  client_secret: 'kpi-web-secret',
  grant_types: ['authorization_code'],
  redirect_uris: [`${webOrigin}/api/v1/auth/oidc/callback`],
  post_logout_redirect_uris: [`${webOrigin}/`],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
};

const provider = new Provider(issuer, {
  clients: [...Object.keys(groups).map(client), ...(webClient ? [webClient] : [])],
  pkce: { required: () => true },
  claims: { openid: ['sub'], profile: ['preferred_username', 'name'], groups: ['groups'] },
  findAccount: (ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, preferred_username: id, name: id, groups: ['all-staff', id.split('-')[0]] }),
  }),
  jwks: {
    keys: [
      signingKey('rsa', { modulusLength: 2048 }, 'RS256'),
      signingKey('ec', { namedCurve: 'P-256' }, 'ES256'),
    ],
  },
  features: {
    devInteractions: { enabled: Boolean(webOrigin) },
    claimsParameter: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:municipal-kpi',
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource, client) => {
        if (!resource.startsWith('urn:')) throw new Error('unknown resource');
        return {
          scope: 'api',
          audience: resource,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: algorithms[client.clientId] || 'RS256' } },
        };
      },
    },
  },
  // Every lifetime set, so that the provider prints no notice about a default one: the tests read
  // only its first line of output and then close the pipe.
  ttl: {
    ClientCredentials: 600, AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600,
    Session: 3600, Grant: 3600,
  },
  extraTokenClaims: (ctx, token) => ({ groups: groups[token.clientId] || [] }),
});

// Output after "ready" has no reader: a write to the closed pipe must not end the provider.
process.stdout.on('error', () => {});

provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
