export { orderCreatedEvent, orderItem, type OrderCreatedEvent, type OrderItem } from './events.js';
export { shopFaultSpec, SUPPORTED_FAULTS, waitOutSlowQueries, type ShopFault, type ShopFaultName } from './faults.js';
export { assertTopology, topology } from './topology.js';
