import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BodyOf, OkOf, ParamsOf, QueryOf, RouteDef } from '../../api/route.ts';
import { requireKey } from './guards.ts';
import type { ServiceContext } from './service-context.ts';

export interface HandlerInput<R extends RouteDef> {
  body: BodyOf<R>;
  query: QueryOf<R>;
  params: ParamsOf<R>;
  request: FastifyRequest;
  reply: FastifyReply;
}

/** Returns the 200 body (typed by the route's declaration), or the reply after sending bytes itself. */
export type Handler<R extends RouteDef> = (input: HandlerInput<R>) => Promise<OkOf<R> | FastifyReply>;

export interface BoundRoute {
  route: RouteDef;
  handler: Handler<RouteDef>;
}

/** Pairs a declaration with its handler; the compiler checks the handler against the declaration. */
export function implement<R extends RouteDef>(route: R, handler: Handler<R>): BoundRoute {
  return { route, handler: handler as unknown as Handler<RouteDef> };
}

/** Each declaration becomes one Fastify route: auth before the body is read, zod validation, then the handler. */
export function registerRoutes(app: FastifyInstance, ctx: ServiceContext, routes: readonly BoundRoute[]): void {
  const auth = requireKey(ctx);
  for (const { route, handler } of routes) {
    app.route({
      method: route.method,
      url: route.path,
      schema: {
        ...(route.body ? { body: route.body } : {}),
        ...(route.query ? { querystring: route.query } : {}),
        ...(route.params ? { params: route.params } : {}),
      },
      ...(route.auth === 'x-key' ? { onRequest: auth } : {}),
      handler: (request, reply) => handler({ body: request.body as never, query: request.query as never, params: request.params as never, request, reply }),
    });
  }
}
