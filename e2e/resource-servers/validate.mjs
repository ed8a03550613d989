// Validating Gatepass access tokens in Node with jose (npm install jose).
import { createRemoteJWKSet, jwtVerify } from "jose";

const issuer = process.env.GATEPASS_ISSUER; // e.g. https://auth.example.com
const audience = process.env.API_AUDIENCE; // this service, e.g. https://api.example.com

// RFC 8414 metadata, once at start: the JWKS address (jose caches the keys and refetches,
// rate-limited, for an unknown kid, which is how a key rotation arrives).
const metadata = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json();
if (metadata.issuer !== issuer) throw new Error(`metadata names another issuer: ${metadata.issuer}`);
const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri));

/** The token's claims if it is a Gatepass access token for us holding `scope`. */
export async function validate(token, scope) {
  const { payload } = await jwtVerify(token, jwks, {
    issuer,
    audience,
    algorithms: ["ES256", "EdDSA"], // never "none", never HMAC
    typ: "at+jwt", // RFC 9068 §4
    clockTolerance: 60,
    requiredClaims: ["exp", "iat", "nbf", "sub", "client_id", "scope"],
  });
  if (!payload.scope.split(" ").includes(scope)) throw new Error(`insufficient_scope: needs ${scope}`);
  return payload;
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  try {
    const claims = await validate(process.argv[2], process.argv[3]);
    console.log(`accepted: ${claims.client_id}`);
  } catch (refused) {
    console.log(`refused: ${refused.code ?? refused.name}: ${refused.message}`);
    process.exit(1);
  }
}
