import {gatehouseGateway} from '../systems/gatehouse.js'
import {supergateway} from '../systems/supergateway.js'
import {mcpProxy} from '../systems/mcp-proxy.js'
import type {Gateway, System} from '../systems/types.js'

export const GATEWAYS: System<Gateway>[] = [gatehouseGateway, supergateway, mcpProxy]
export const BRIDGES = ['supergateway', 'mcp-proxy']
