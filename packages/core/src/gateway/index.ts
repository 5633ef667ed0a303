export { createGateway, type Gateway, type GatewayOptions } from './gateway.js';
export { paramsFromRequest, BadTargetError, type ParamsOptions } from './params.js';
