export { seededRandom, Zipf } from './zipf.js';
