// A real OpenID Connect provider for the browser tests (tests/e2e/test_journey_sso.py):
// the certified `oidc-provider` package with its development login and consent pages.
//
//   node tests/e2e/oidc_provider.mjs <port> <accounts.json> <redirect uri>
//
// One confidential client, "appkeeper", that must use PKCE; the groups claim comes with
// the `groups` scope and is put in the ID token. Accounts are read from the JSON file at
// every sign-in ({"<login>": {"email": ..., "groups": [...]}}), so a test changes
// someone's groups by rewriting the file. Prints "ready" once it listens.
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const [port, accountsFile, redirectUri] = process.argv.slice(2);
if (!port || !accountsFile || !redirectUri) {
  console.error("usage: oidc_provider.mjs <port> <accounts.json> <redirect uri>");
  process.exit(2);
}
const issuer = `http://localhost:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "appkeeper",
      client_secret: "appkeeper-browser-test-secret",
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [new URL("/login/", redirectUri).href],
      response_types: ["code"],
      grant_types: ["authorization_code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  pkce: { required: () => true },
  scopes: ["openid", "email", "profile", "groups"],
  claims: {
    email: ["email", "email_verified"],
    profile: ["name", "given_name", "family_name", "preferred_username"],
    groups: ["groups"],
  },
  // The scopes' claims go in the ID token as well as the userinfo answer, as Entra ID
  // and Keycloak's group mapper do.
  conformIdTokenClaims: false,
  cookies: { keys: ["appkeeper-browser-test-cookie-key"] },
  async findAccount(_ctx, id) {
    const account = JSON.parse(readFileSync(accountsFile, "utf8"))[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account }) };
  },
});

provider.listen(Number(port), "127.0.0.1", () => {
  console.log("ready");
});
