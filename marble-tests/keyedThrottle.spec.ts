import { keyedThrottle } from '../streams';
import { keyedThrottleContract } from './keyedThrottleContract';

// keyedThrottle keeps no group per key, so its expiry has nothing to observe from outside: the
// contract's output cases are what it must match.
describe('keyedThrottle', () => {
  keyedThrottleContract(keyedThrottle);
});
