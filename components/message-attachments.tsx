"use client";
import { useEffect, useRef, useState } from "react";
import type { WireAttachment, WireLinkPreview } from "@/server/realtime/events";
import { formatSize } from "./upload";

const fileUrl = (a: WireAttachment) => `/api/files/${a.id}`;
const THUMB_MAX = 280;

/** Images as thumbnails (opening a lightbox), every other file as a card with its name, size and a download link. */
export function MessageAttachments({ attachments }: { attachments: WireAttachment[] }) {
  const [open, setOpen] = useState<WireAttachment | null>(null);
  if (attachments.length === 0) return null;
  const images = attachments.filter((a) => a.thumbnail);
  const others = attachments.filter((a) => !a.thumbnail);
  return (
    <div className="msg-attachments" data-testid="message-attachments">
      {images.length > 0 && (
        <div className="msg-images">
          {images.map((a) => {
            const scale = a.width && a.height ? Math.min(1, THUMB_MAX / Math.max(a.width, a.height)) : 1;
            return (
              <button
                key={a.id}
                type="button"
                className="msg-thumb"
                onClick={() => setOpen(a)}
                aria-label={`Open image ${a.name}`}
                data-testid="attachment-image"
              >
                <img
                  src={`${fileUrl(a)}/thumbnail`}
                  alt={a.name}
                  width={a.width ? Math.round(a.width * scale) : undefined}
                  height={a.height ? Math.round(a.height * scale) : undefined}
                  loading="lazy"
                />
              </button>
            );
          })}
        </div>
      )}
      {others.map((a) => (
        <a
          key={a.id}
          className="file-card"
          href={fileUrl(a)}
          download={a.name}
          data-testid="attachment-file"
          title={`Download ${a.name}`}
        >
          <span className="file-icon" aria-hidden>
            📄
          </span>
          <span className="file-name">{a.name}</span>
          <span className="file-size muted">{formatSize(a.size)}</span>
        </a>
      ))}
      {open && <Lightbox image={open} onClose={() => setOpen(null)} />}
    </div>
  );
}

function Lightbox({ image, onClose }: { image: WireAttachment; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    dialog?.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className="lightbox"
      onClose={onClose}
      onClick={(e) => e.target === e.currentTarget && onClose()}
      onKeyDown={(e) => e.key === "Escape" && onClose()}
      aria-label={image.name}
      data-testid="lightbox"
    >
      <img src={fileUrl(image)} alt={image.name} />
      <div className="lightbox-bar">
        <span>{image.name}</span>
        <a href={fileUrl(image)} download={image.name}>
          Download
        </a>
        <button type="button" className="link-btn" onClick={onClose} data-testid="lightbox-close">
          Close
        </button>
      </div>
    </dialog>
  );
}

/** The first link's card; the sender may take it off. Everything shown is text from the page, never markup. */
export function LinkPreviewCard({ preview, onRemove }: { preview: WireLinkPreview; onRemove?: () => void }) {
  const [imageFailed, setImageFailed] = useState(false);
  return (
    <div className="link-preview" data-testid="link-preview">
      {preview.imageUrl && !imageFailed && (
        <img
          className="link-preview-image"
          src={preview.imageUrl}
          alt=""
          referrerPolicy="no-referrer"
          loading="lazy"
          onError={() => setImageFailed(true)}
        />
      )}
      <div className="link-preview-text">
        {preview.siteName && <div className="link-preview-site muted">{preview.siteName}</div>}
        <a
          className="link-preview-title"
          href={preview.url}
          target="_blank"
          rel="noopener noreferrer nofollow ugc"
          data-testid="link-preview-title"
        >
          {preview.title ?? preview.url}
        </a>
        {preview.description && <div className="link-preview-desc">{preview.description}</div>}
      </div>
      {onRemove && (
        <button
          type="button"
          className="link-btn link-preview-remove"
          onClick={onRemove}
          aria-label="Remove the link preview"
          data-testid="link-preview-remove"
        >
          ×
        </button>
      )}
    </div>
  );
}
