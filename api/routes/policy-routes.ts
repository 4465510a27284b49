import type { FastifyInstance } from 'fastify';
import { POLICY_TYPES } from '../../model/policy.js';
import {
  applyPolicy,
  createPolicy,
  deletePolicy,
  listPolicies,
  setPolicyPaused,
  showPolicy,
  unapplyPolicy,
  updatePolicy,
  type CreatePolicyRequest,
  type UpdatePolicyRequest,
} from '../../services/policies/index.js';
import type { ServiceContext } from '../../services/service-context.js';
import { actorOf, NAME_SCHEMA, NO_FIELDS, type RefParams } from './actor.js';

const SCHEDULE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['cron'],
  properties: {
    cron: { type: 'string', minLength: 1, maxLength: 200 },
    timeZone: { type: 'string', minLength: 1, maxLength: 100 },
  },
} as const;

const RETENTION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    keepCount: { type: ['integer', 'null'], minimum: 0 },
    keepDays: { type: ['number', 'null'], exclusiveMinimum: 0 },
  },
} as const;

const OBJECT_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['object'],
  properties: { object: { type: 'string', minLength: 1 } },
} as const;

/** /policies: CRUD, apply/unapply to dSources and VDBs, pause and resume. Answers carry `warnings`. */
export function policyRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.post<{ Body: CreatePolicyRequest }>(
    '/policies',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'type'],
          properties: {
            name: NAME_SCHEMA,
            type: { type: 'string', enum: [...POLICY_TYPES] },
            schedule: SCHEDULE_SCHEMA,
            retention: RETENTION_SCHEMA,
            targets: { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 1000 },
          },
        },
      },
    },
    async (request, reply) => reply.status(201).send(await createPolicy(ctx, request.body, actorOf(request))),
  );
  app.get('/policies', async () => ({ policies: await listPolicies(ctx) }));
  app.get<RefParams>('/policies/:ref', async (request) => showPolicy(ctx, request.params.ref));
  app.patch<RefParams & { Body: UpdatePolicyRequest }>(
    '/policies/:ref',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { schedule: SCHEDULE_SCHEMA, retention: RETENTION_SCHEMA },
        },
      },
    },
    async (request) => updatePolicy(ctx, request.params.ref, request.body),
  );
  app.delete<RefParams>('/policies/:ref', async (request) => deletePolicy(ctx, request.params.ref));
  app.post<RefParams & { Body: { object: string } }>(
    '/policies/:ref/apply',
    { schema: { body: OBJECT_BODY } },
    async (request) => applyPolicy(ctx, request.params.ref, request.body.object),
  );
  app.post<RefParams & { Body: { object: string } }>(
    '/policies/:ref/unapply',
    { schema: { body: OBJECT_BODY } },
    async (request) => unapplyPolicy(ctx, request.params.ref, request.body.object),
  );
  app.post<RefParams>('/policies/:ref/pause', NO_FIELDS, async (request) =>
    setPolicyPaused(ctx, request.params.ref, true),
  );
  app.post<RefParams>('/policies/:ref/resume', NO_FIELDS, async (request) =>
    setPolicyPaused(ctx, request.params.ref, false),
  );
}
