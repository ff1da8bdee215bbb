"use client";
// One upload to POST /api/files with progress and cancel; XMLHttpRequest because fetch reports no upload progress.

export type UploadedFile = {
  fileId: string;
  name: string;
  size: number;
  mime: string;
  width?: number;
  height?: number;
};

export class UploadError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "UploadError";
  }
}

export class UploadCancelled extends Error {
  constructor() {
    super("Upload cancelled");
    this.name = "UploadCancelled";
  }
}

export type UploadHandle = { done: Promise<UploadedFile>; cancel: () => void };

export function uploadFile(file: File, onProgress: (fraction: number) => void): UploadHandle {
  const xhr = new XMLHttpRequest();
  const done = new Promise<UploadedFile>((resolve, reject) => {
    xhr.open("POST", "/api/files");
    xhr.responseType = "text";
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status === 201 && body) return resolve(body as UploadedFile);
      const message = (body as { error?: { message?: string } } | null)?.error?.message;
      reject(new UploadError(message ?? uploadStatusText(xhr.status), xhr.status));
    };
    // The server closes the connection on an oversized upload; the browser may see only that.
    xhr.onerror = () => reject(new UploadError("The upload failed (too large, or the connection dropped)", 0));
    xhr.onabort = () => reject(new UploadCancelled());
    const form = new FormData();
    form.append("file", file, file.name || "pasted-file");
    xhr.send(form);
  });
  return { done, cancel: () => xhr.abort() };
}

function uploadStatusText(status: number): string {
  if (status === 413) return "The file is too large";
  if (status === 401) return "Sign in again to upload";
  return `The upload failed (${status})`;
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
