// The demo users: the sandbox's two, with the same passwords and profiles.
import { timingSafeEqual } from 'node:crypto';

const USERS = new Map([
  ['alice', {
    password: 'wonderland',
    profile: {
      aa_id: 'aa-user-5f1c2a9e-alice',
      email: 'alice@example.com',
      first_name: 'Alice',
      last_name: 'Liddell',
      country: 'GB',
      is_pro: true,
      unit_of_measure: 'Metric',
    },
  }],
  ['bob', {
    password: 'builder',
    profile: {
      aa_id: 'aa-user-8d03b7c4-bob',
      email: 'bob@example.com',
      first_name: 'Bob',
      last_name: 'Builder',
      country: 'US',
      is_pro: false,
      unit_of_measure: 'Imperial',
    },
  }],
]);

// The OpenID claims each scope releases at the userinfo endpoint (/me).
export const CLAIMS = {
  openid: ['sub'],
  query_userinfo: ['email', 'email_verified', 'given_name', 'family_name'],
};

// Return the account id for a username and password, or undefined.
export function authenticate(username, password) {
  const user = USERS.get(username);
  if (!user) return undefined;
  const expected = Buffer.from(user.password);
  const given = Buffer.from(String(password));
  return expected.length === given.length && timingSafeEqual(expected, given) ? username : undefined;
}

// Return the platform-shaped profile of an account, as GET /userProfile answers it.
export function profileOf(accountId) {
  return USERS.get(accountId)?.profile;
}

// oidc-provider's findAccount: the account and the claims it releases.
export async function findAccount(ctx, id) {
  const profile = profileOf(id);
  if (!profile) return undefined;
  return {
    accountId: id,
    async claims() {
      return {
        sub: id,
        email: profile.email,
        email_verified: true,
        given_name: profile.first_name,
        family_name: profile.last_name,
      };
    },
  };
}
