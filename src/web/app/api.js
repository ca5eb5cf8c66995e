// The web API client: same-origin fetch with the session cookie, the
// CSRF token on every change, JSON in and out, RFC 9457 problems turned
// into ApiError (with the members at fault).

let csrf = "";

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || "HTTP " + status);
    this.status = status;
    this.problem = problem || {};
    this.errors = (problem && problem.errors) || [];
  }
  // The message for one member ("name", "items.2.file_id"), or "".
  field(name) {
    const e = this.errors.find((x) => x.field === name);
    return e ? e.message : "";
  }
}

export function setCsrf(token) {
  csrf = token || "";
}

async function parse(res) {
  const type = res.headers.get("Content-Type") || "";
  if (res.status === 204 || res.status === 304) return null;
  if (type.includes("json")) return res.json();
  return res.text();
}

// request("GET", "/files", {query: {limit: 50}}) -> the parsed body.
export async function request(method, path, opts = {}) {
  let url = "/api/v1" + path;
  if (opts.query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== "") q.set(k, v);
    }
    const s = q.toString();
    if (s) url += (url.includes("?") ? "&" : "?") + s;
  }
  const headers = { Accept: "application/json" };
  let body;
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  if (method !== "GET" && method !== "HEAD" && csrf) headers["X-CSRF-Token"] = csrf;
  let res;
  try {
    res = await fetch(url, { method, headers, body, credentials: "same-origin" });
  } catch (e) {
    throw new ApiError(0, { detail: "The station's server cannot be reached." });
  }
  const data = await parse(res);
  if (!res.ok) {
    if (res.status === 401 && !opts.noAuthRedirect) {
      window.dispatchEvent(new CustomEvent("onair:logged-out"));
    }
    throw new ApiError(res.status, typeof data === "object" ? data : { detail: String(data) });
  }
  return data;
}

export const get = (path, query) => request("GET", path, { query });
export const post = (path, body) => request("POST", path, { body });
export const patch = (path, body) => request("PATCH", path, { body });
export const put = (path, body) => request("PUT", path, { body });
export const del = (path, query) => request("DELETE", path, { query });

// Upload one file with progress: onProgress(fraction). Resolves to the
// parsed answer; rejects with ApiError.
export function upload(file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/files?filename=" + encodeURIComponent(file.name));
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    if (csrf) xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch (e) {
        data = { detail: xhr.responseText };
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data));
    };
    xhr.onerror = () => reject(new ApiError(0, { detail: "The upload was cut off." }));
    xhr.send(file);
  });
}

// Times: the API speaks RFC 3339 UTC; the interface shows the browser's
// local time (the station's zone is shown where it matters).
export function fmtTime(iso, opts) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString(undefined, opts || {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

export function fmtDuration(us) {
  if (us === null || us === undefined) return "";
  let s = Math.round(us / 1e6);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const two = (n) => String(n).padStart(2, "0");
  return (h ? h + ":" + two(m) : String(m)) + ":" + two(s);
}
