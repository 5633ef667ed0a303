// A GitHub-REST-API-like route table for the router benchmark: real endpoints first (users, orgs,
// repos, gists, search...), then generated ones in GitHub's own shape (most under
// /repos/:owner/:repo, the rest under /orgs/:org and /enterprises/:enterprise) up to 1000 routes.
// Static siblings come before parameterised ones, as a working Express app must order them.
export interface RouteDef {
  method: string;
  path: string;
}

const REAL = `
GET /
GET /user
PATCH /user
GET /user/repos
POST /user/repos
GET /user/orgs
GET /user/followers
GET /user/following
GET /user/following/:username
PUT /user/following/:username
DELETE /user/following/:username
GET /user/starred
GET /user/starred/:owner/:repo
PUT /user/starred/:owner/:repo
DELETE /user/starred/:owner/:repo
GET /user/subscriptions
GET /user/keys
POST /user/keys
GET /user/keys/:key_id
DELETE /user/keys/:key_id
GET /user/emails
GET /users
GET /users/:username
GET /users/:username/repos
GET /users/:username/orgs
GET /users/:username/followers
GET /users/:username/following
GET /users/:username/following/:target_user
GET /users/:username/starred
GET /users/:username/subscriptions
GET /users/:username/events
GET /users/:username/received_events
GET /users/:username/gists
GET /users/:username/keys
GET /orgs/:org
PATCH /orgs/:org
GET /orgs/:org/repos
POST /orgs/:org/repos
GET /orgs/:org/members
GET /orgs/:org/members/:username
DELETE /orgs/:org/members/:username
GET /orgs/:org/teams
POST /orgs/:org/teams
GET /orgs/:org/teams/:team_slug
GET /orgs/:org/teams/:team_slug/members
GET /orgs/:org/events
GET /orgs/:org/hooks
POST /orgs/:org/hooks
GET /orgs/:org/hooks/:hook_id
GET /repos/:owner/:repo
PATCH /repos/:owner/:repo
DELETE /repos/:owner/:repo
GET /repos/:owner/:repo/issues
POST /repos/:owner/:repo/issues
GET /repos/:owner/:repo/issues/comments
GET /repos/:owner/:repo/issues/comments/:comment_id
GET /repos/:owner/:repo/issues/:issue_number
PATCH /repos/:owner/:repo/issues/:issue_number
GET /repos/:owner/:repo/issues/:issue_number/comments
POST /repos/:owner/:repo/issues/:issue_number/comments
GET /repos/:owner/:repo/issues/:issue_number/events
GET /repos/:owner/:repo/issues/:issue_number/labels
POST /repos/:owner/:repo/issues/:issue_number/labels
DELETE /repos/:owner/:repo/issues/:issue_number/labels/:name
GET /repos/:owner/:repo/pulls
POST /repos/:owner/:repo/pulls
GET /repos/:owner/:repo/pulls/:pull_number
PATCH /repos/:owner/:repo/pulls/:pull_number
GET /repos/:owner/:repo/pulls/:pull_number/commits
GET /repos/:owner/:repo/pulls/:pull_number/files
GET /repos/:owner/:repo/pulls/:pull_number/merge
PUT /repos/:owner/:repo/pulls/:pull_number/merge
GET /repos/:owner/:repo/pulls/:pull_number/reviews
POST /repos/:owner/:repo/pulls/:pull_number/reviews
GET /repos/:owner/:repo/commits
GET /repos/:owner/:repo/commits/:ref
GET /repos/:owner/:repo/commits/:ref/status
GET /repos/:owner/:repo/commits/:ref/check-runs
GET /repos/:owner/:repo/branches
GET /repos/:owner/:repo/branches/:branch
GET /repos/:owner/:repo/branches/:branch/protection
PUT /repos/:owner/:repo/branches/:branch/protection
GET /repos/:owner/:repo/tags
GET /repos/:owner/:repo/releases
POST /repos/:owner/:repo/releases
GET /repos/:owner/:repo/releases/latest
GET /repos/:owner/:repo/releases/:release_id
GET /repos/:owner/:repo/releases/:release_id/assets
GET /repos/:owner/:repo/readme
GET /repos/:owner/:repo/contributors
GET /repos/:owner/:repo/languages
GET /repos/:owner/:repo/stargazers
GET /repos/:owner/:repo/subscribers
GET /repos/:owner/:repo/forks
POST /repos/:owner/:repo/forks
GET /repos/:owner/:repo/hooks
POST /repos/:owner/:repo/hooks
GET /repos/:owner/:repo/hooks/:hook_id
GET /repos/:owner/:repo/labels
POST /repos/:owner/:repo/labels
GET /repos/:owner/:repo/labels/:name
GET /repos/:owner/:repo/milestones
GET /repos/:owner/:repo/milestones/:milestone_number
GET /repos/:owner/:repo/collaborators
GET /repos/:owner/:repo/collaborators/:username
PUT /repos/:owner/:repo/collaborators/:username
GET /repos/:owner/:repo/git/refs
GET /repos/:owner/:repo/git/commits/:commit_sha
GET /repos/:owner/:repo/git/trees/:tree_sha
GET /repos/:owner/:repo/git/blobs/:file_sha
GET /repos/:owner/:repo/deployments
GET /repos/:owner/:repo/environments
GET /gists
POST /gists
GET /gists/public
GET /gists/starred
GET /gists/:gist_id
PATCH /gists/:gist_id
GET /gists/:gist_id/comments
GET /search/repositories
GET /search/code
GET /search/issues
GET /search/users
GET /notifications
GET /notifications/threads/:thread_id
GET /events
GET /feeds
GET /emojis
GET /rate_limit
GET /meta
GET /licenses
GET /licenses/:license
GET /gitignore/templates
GET /gitignore/templates/:name
GET /teams/:team_id
GET /projects/columns/cards/:card_id
GET /projects/columns/:column_id
GET /projects/:project_id
POST /markdown
POST /applications/:client_id/token
GET /installation/repositories
GET /app
GET /app/installations
GET /app/installations/:installation_id
GET /marketplace_listing/plans
GET /organizations
GET /repositories
GET /codes_of_conduct
GET /codes_of_conduct/:key
`;

// Resource families GitHub has many of; each gets list/create/get/update/delete and a sub-list.
const FAMILIES = [
  'actions/artifacts',
  'actions/caches',
  'actions/runners',
  'actions/secrets',
  'actions/variables',
  'actions/workflows',
  'actions/runs',
  'actions/jobs',
  'code-scanning/alerts',
  'code-scanning/analyses',
  'dependabot/alerts',
  'dependabot/secrets',
  'secret-scanning/alerts',
  'pages/builds',
  'pages/deployments',
  'traffic/views',
  'traffic/clones',
  'check-suites',
  'check-runs',
  'codespaces',
  'comments',
  'compare',
  'deploy-keys',
  'keys',
  'invitations',
  'autolinks',
  'rulesets',
  'rules/branches',
  'properties/values',
  'security-advisories',
  'attestations',
  'interaction-limits',
  'notifications',
  'projects',
  'topics',
  'vulnerability-alerts',
  'teams',
  'merge-upstream',
  'dispatches',
  'import/authors',
  'import/large_files',
  'lfs/objects',
  'packages/container',
  'packages/npm',
  'packages/maven',
  'packages/docker',
  'copilot/seats',
  'custom-properties',
  'outside_collaborators',
  'credential-authorizations',
  'audit-log',
  'blocks',
  'hooks/deliveries',
  'installations',
  'migrations',
  'personal-access-tokens',
  'settings/billing',
  'team-sync/groups',
  'failed_invitations',
  'public_members',
  'security-managers',
  'organization-roles',
];

function familyRoutes(prefix: string, family: string): RouteDef[] {
  const id = `:${family
    .split('/')
    .pop()!
    .replace(/[^a-z]/g, '_')}_id`;
  const base = `${prefix}/${family}`;
  return [
    { method: 'GET', path: base },
    { method: 'POST', path: base },
    { method: 'GET', path: `${base}/${id}` },
    { method: 'PATCH', path: `${base}/${id}` },
    { method: 'DELETE', path: `${base}/${id}` },
    { method: 'GET', path: `${base}/${id}/events` },
  ];
}

/** The first `count` routes of the table (at most 1000). */
export function githubRoutes(count: number): RouteDef[] {
  const all: RouteDef[] = REAL.trim()
    .split('\n')
    .map((line) => {
      const [method, path] = line.trim().split(' ');
      return { method: method!, path: path! };
    });
  // Two routes that differ only in param names are one route (find-my-way refuses the second).
  const keyOf = (r: RouteDef) => `${r.method} ${r.path.replace(/:[A-Za-z_]+/g, ':')}`;
  const seen = new Set(all.map(keyOf));
  outer: for (const prefix of ['/repos/:owner/:repo', '/orgs/:org', '/enterprises/:enterprise']) {
    for (const family of FAMILIES) {
      for (const r of familyRoutes(prefix, family)) {
        if (all.length >= 1000) break outer;
        const key = keyOf(r);
        if (seen.has(key)) continue;
        seen.add(key);
        all.push(r);
      }
    }
  }
  return all.slice(0, count);
}

const VALUES: Record<string, string> = { owner: 'nodejs', repo: 'node', username: 'octocat', org: 'github' };

/** A concrete request path for a route (params filled with plausible values). */
export function requestPath(path: string, n: number): string {
  return path.replace(/:([A-Za-z_]+)/g, (_m, name: string) => VALUES[name] ?? String(1000 + ((n * 7919) % 9000)));
}
