// The routing conformance suite: cases as data, and a runner taking a router factory.
export { cases, type Case, type Expect, type HandlerSpec, type ParamSpec, type PathSpec, type Step } from './cases.js';
export {
  FakeResponse,
  request,
  runCase,
  runConformance,
  type AnyRouter,
  type FakeRequest,
  type Outcome,
  type RouterFactory,
} from './runner.js';
