// The HTTP gateway: a web server in front of a FastCGI application (development, and a peer to compare with nginx).
export { createGateway, type Gateway, type GatewayOptions } from './gateway.js';
export type { ParamsOptions } from './params.js';
