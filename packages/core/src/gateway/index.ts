export { createGateway, type Gateway, type GatewayOptions } from './gateway.js';
export { paramsFromRequest, type ParamsOptions } from './params.js';
