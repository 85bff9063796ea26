// Entry of the webview bundle: starts the panel the page names, then tells the extension it is ready.
import type { PanelKind } from '../protocol/webview';
import { post } from './host';
import { startLaunchForm } from './launch-form';
import { startRequestDetails } from './request-details';

const root = document.getElementById('app')!;
const kind = document.body.dataset.panel as PanelKind;
if (kind === 'launch') startLaunchForm(root);
else startRequestDetails(root, document.body.dataset.requestId ?? '');
post({ type: 'ready' });
