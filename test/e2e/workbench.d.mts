// Types of workbench.mjs, for the TypeScript tests that drive the workbench (test/infra/vscode-*.test.ts).
import type { BrowserContext, Locator, Page } from 'playwright-core';

export function launchWorkbenchBrowser(): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }>;
export function openSkyDeck(page: Page, url: string): Promise<void>;
export function quickInput(page: Page): Locator;
export function runCommand(page: Page, title: string): Promise<void>;
export function answerQuickPick(page: Page, text: string, row?: string): Promise<void>;
export function openClusterTerminal(page: Page, cluster: string, prompt?: RegExp): Promise<{ tab: Locator; screen: Locator }>;
export function typeLine(page: Page, line: string): Promise<void>;
