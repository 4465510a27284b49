// The API token of this tab: kept in sessionStorage (gone when the tab closes, never in a URL), read at each request.

const KEY = 'dvx.token';

export function storedToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}
