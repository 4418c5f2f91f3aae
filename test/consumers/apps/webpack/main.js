import { start } from '../scenario.js';

start();
