import { render } from 'preact';
import { App } from './app';
import './styles.css';

performance.mark('touchline:boot');
render(<App />, document.getElementById('app')!);
