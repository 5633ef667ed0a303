// Role names and numbers for ServerOptions.roles and req.role: what is accepted, what is refused.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Role } from '../protocol/index.js';
import { roleName, roleNumbers } from './authorizer.js';

it('roleNumbers: names and numbers of the Responder and Authorizer roles, deduplicated', () => {
  assert.deepEqual(roleNumbers(['responder']), [Role.RESPONDER]);
  assert.deepEqual(roleNumbers(['responder', 'authorizer', 2]), [Role.RESPONDER, Role.AUTHORIZER]);
  assert.deepEqual(roleNumbers([Role.AUTHORIZER]), [Role.AUTHORIZER]);
});

it('roleNumbers: the Filter role, unknown roles and an empty list are refused', () => {
  assert.throws(() => roleNumbers([Role.FILTER]), /unsupported FastCGI role 3/);
  assert.throws(() => roleNumbers(['filter' as never]), RangeError);
  assert.throws(() => roleNumbers([]), /at least one role/);
});

it('roleName: what a handler sees in req.role', () => {
  assert.equal(roleName(Role.RESPONDER), 'responder');
  assert.equal(roleName(Role.AUTHORIZER), 'authorizer');
});
