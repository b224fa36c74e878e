// The protocol client of docs/protocol.md: one session over a WebSocket that may drop at any time. It reconnects
// with backoff and `?resume=`, fills gaps with `join` + `since`, shows every message once, in seq order,
// and resends its own unconfirmed messages under the same `id`, which the server de-duplicates.

export interface ChatMessage {
  room: string;
  seq: number;
  from: string;
  text: string;
  id?: string;
  ts: string;
}

export type Status = "connecting" | "connected" | "reconnecting" | "unavailable" | "taken_over";

/** The server closed this socket because the session was resumed elsewhere (docs/protocol.md). */
const TakenOver = 4001;

export interface RoomView {
  name: string;
  messages: ChatMessage[];
  members: string[];
  unread: number;
}

export interface ChatError {
  code: string;
  message: string;
  ref?: string;
}

export interface ChatState {
  status: Status;
  session?: string;
  name?: string;
  rooms: RoomView[];
  visibleRoom?: string;
  lastError?: ChatError;
}

/** The part of a browser WebSocket the client uses, so tests can drive it with a fake. */
export interface SocketLike {
  send(data: string): void;
  close(code?: number): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface ChatClientOptions {
  createSocket?: (url: string) => SocketLike;
  storage?: Pick<Storage, "getItem" | "setItem" | "removeItem">;
  /** Delays before reconnect attempts 1, 2, 3...; the last one repeats. */
  backoffMs?: number[];
  schedule?: (fn: () => void, ms: number) => unknown;
}

/** A room keeps at most this many messages in view. */
const KeptMessages = 500;
const StorageKey = "socketstarter.session";

interface StoredSession {
  token: string;
  name?: string;
  rooms: string[];
}

interface RoomState {
  name: string;
  messages: ChatMessage[];
  members: Set<string>;
  unread: number;
  /** A `join` with `since` is on its way for a gap: do not ask again for every message that arrives meanwhile. */
  fillingGap: boolean;
}

type Frame = Record<string, unknown> & { type: string };

export class ChatClient {
  private socket?: SocketLike;
  private welcomed = false;
  private attempt = 0;
  private token?: string;
  private name?: string;
  private readonly rooms = new Map<string, RoomState>();
  private visibleRoom?: string;
  /** Own messages not yet seen back from the room, by client id: resent after a reconnect. */
  private readonly unconfirmed = new Map<string, Frame>();
  /** How often each unconfirmed say was refused rate_limited: its next resend waits longer. */
  private readonly refusals = new Map<string, number>();
  /** Frames (other than says) asked for while disconnected. */
  private readonly outbox: Frame[] = [];
  private nextId = 0;
  private status: Status = "connecting";
  private session?: string;
  private lastError?: ChatError;
  private snapshot: ChatState;
  private readonly listeners = new Set<() => void>();
  private readonly createSocket: (url: string) => SocketLike;
  private readonly storage?: Pick<Storage, "getItem" | "setItem" | "removeItem">;
  private readonly backoffMs: number[];
  private readonly schedule: (fn: () => void, ms: number) => unknown;
  private closedByUser = false;

  constructor(private readonly url: string, options: ChatClientOptions = {}) {
    this.createSocket = options.createSocket ?? ((u) => new WebSocket(u) as unknown as SocketLike);
    this.storage = options.storage;
    this.backoffMs = options.backoffMs ?? [250, 500, 1000, 2000, 4000];
    this.schedule = options.schedule ?? ((fn, ms) => setTimeout(fn, ms));
    const stored = this.readStored();
    if (stored) {
      this.token = stored.token;
      this.name = stored.name;
      for (const room of stored.rooms) this.rooms.set(room, newRoom(room));
      this.visibleRoom = stored.rooms[0];
    }
    this.snapshot = this.buildSnapshot();
  }

  // --- for React: useSyncExternalStore(client.subscribe, client.getState)
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): ChatState => this.snapshot;

  connect(): void {
    this.closedByUser = false;
    const target = this.token ? `${this.url}?resume=${encodeURIComponent(this.token)}` : this.url;
    const socket = this.createSocket(target);
    this.socket = socket;
    socket.onmessage = (ev) => {
      if (this.socket === socket && typeof ev.data === "string") this.receive(JSON.parse(ev.data) as Frame);
    };
    socket.onclose = (ev) => {
      if (this.socket === socket) this.dropped(ev.code);
    };
    socket.onerror = () => {
      /* onclose follows */
    };
  }

  close(): void {
    this.closedByUser = true;
    this.socket?.close(1000);
  }

  register(name: string): void {
    this.lastError = undefined;
    this.send({ type: "register", name });
  }

  join(room: string): void {
    this.lastError = undefined;
    this.send({ type: "join", room });
  }

  leave(room: string): void {
    this.send({ type: "leave", room });
  }

  say(room: string, text: string): void {
    const frame: Frame = { type: "say", room, text, id: `c${Date.now().toString(36)}-${++this.nextId}` };
    this.unconfirmed.set(frame.id as string, frame);
    if (this.welcomed) this.socket?.send(JSON.stringify(frame));
  }

  show(room: string): void {
    this.visibleRoom = room;
    const state = this.rooms.get(room);
    if (state) state.unread = 0;
    this.changed();
  }

  private send(frame: Frame): void {
    if (this.welcomed) this.socket?.send(JSON.stringify(frame));
    else this.outbox.push(frame);
    this.changed();
  }

  private dropped(code: number): void {
    this.welcomed = false;
    this.socket = undefined;
    if (this.closedByUser) return;
    if (code === TakenOver) {
      // Another tab or device resumed this session: resuming it back would only close that one in turn.
      this.status = "taken_over";
      this.changed();
      return;
    }
    this.status = "reconnecting";
    this.changed();
    const delay = this.backoffMs[Math.min(this.attempt, this.backoffMs.length - 1)];
    this.attempt++;
    this.schedule(() => this.connect(), delay * (0.75 + Math.random() * 0.5));
  }

  private receive(frame: Frame): void {
    switch (frame.type) {
      case "welcome":
        this.welcome(frame.session as string, frame.resume as string, frame.resumed === true);
        break;
      case "registered":
        this.name = frame.name as string;
        this.store();
        break;
      case "joined":
        this.joined(frame.room as string, frame.members as string[], frame.history as ChatMessage[]);
        break;
      case "left":
        this.rooms.delete(frame.room as string);
        if (this.visibleRoom === frame.room) this.visibleRoom = this.rooms.keys().next().value;
        this.store();
        break;
      case "presence": {
        const room = this.rooms.get(frame.room as string);
        if (room && typeof frame.joined === "string") room.members.add(frame.joined);
        if (room && typeof frame.left === "string") room.members.delete(frame.left);
        break;
      }
      case "message":
        this.message(frame as unknown as ChatMessage);
        break;
      case "error":
        if (frame.code === "rate_limited" && this.resendLater(frame.id)) break;
        if (frame.code === "unavailable") this.status = "unavailable";
        this.lastError = { code: frame.code as string, message: frame.message as string, ref: frame.ref as string | undefined };
        break;
    }
    this.changed();
  }

  /**
   * A say the server refused for now (the client sent too fast, or the service is overloaded) is sent again after a
   * pause, longer each time the same one is refused: the user's message is not dropped. True when it was one of ours.
   */
  private resendLater(id: unknown): boolean {
    if (typeof id !== "string" || !this.unconfirmed.has(id)) return false;
    const refusals = (this.refusals.get(id) ?? 0) + 1;
    this.refusals.set(id, refusals);
    const delay = this.backoffMs[Math.min(refusals, this.backoffMs.length - 1)];
    this.schedule(() => {
      const frame = this.unconfirmed.get(id);
      if (frame && this.welcomed) this.socket?.send(JSON.stringify(frame));
    }, delay * (0.75 + Math.random() * 0.5));
    return true;
  }

  private welcome(session: string, token: string, resumed: boolean): void {
    this.session = session;
    this.token = token;
    this.welcomed = true;
    this.attempt = 0;
    this.status = "connected";
    const frames: Frame[] = [];
    // A fresh session knows nothing of us: claim the name again. A resumed one keeps it.
    if (!resumed && this.name) frames.push({ type: "register", name: this.name });
    // Rejoining is harmless and returns what was missed: everything after the last seq we have.
    for (const room of this.rooms.values()) {
      const last = lastSeq(room);
      frames.push(last > 0 ? { type: "join", room: room.name, since: last } : { type: "join", room: room.name });
      room.fillingGap = last > 0;
    }
    frames.push(...this.unconfirmed.values(), ...this.outbox.splice(0));
    for (const frame of frames) this.socket?.send(JSON.stringify(frame));
    this.store();
  }

  private joined(name: string, members: string[], history: ChatMessage[]): void {
    let room = this.rooms.get(name);
    if (!room) {
      room = newRoom(name);
      this.rooms.set(name, room);
    }
    room.members = new Set(members);
    room.fillingGap = false;
    for (const message of history) this.insert(room, { ...message, room: name });
    if (!this.visibleRoom || !this.rooms.has(this.visibleRoom)) this.visibleRoom = name;
    this.store();
  }

  private message(message: ChatMessage): void {
    const room = this.rooms.get(message.room);
    if (!room) return;
    const last = lastSeq(room);
    if (last > 0 && message.seq > last + 1 && !room.fillingGap) {
      // Something was missed (a backend crashed): fetch it; what arrives twice is dropped by seq.
      room.fillingGap = true;
      this.socket?.send(JSON.stringify({ type: "join", room: room.name, since: last }));
    }
    if (this.insert(room, message) && room.name !== this.visibleRoom) room.unread++;
    if (this.status === "unavailable") this.status = "connected";
  }

  /** Adds the message in seq order unless it is already there; true when it was new. */
  private insert(room: RoomState, message: ChatMessage): boolean {
    if (message.id && message.from === this.name) {
      this.unconfirmed.delete(message.id);
      this.refusals.delete(message.id);
    }
    const messages = room.messages;
    let index = messages.length;
    while (index > 0 && messages[index - 1].seq > message.seq) index--;
    if (index > 0 && messages[index - 1].seq === message.seq) return false;
    messages.splice(index, 0, message);
    if (messages.length > KeptMessages) messages.splice(0, messages.length - KeptMessages);
    return true;
  }

  private readStored(): StoredSession | undefined {
    try {
      const text = this.storage?.getItem(StorageKey);
      return text ? (JSON.parse(text) as StoredSession) : undefined;
    } catch {
      return undefined;
    }
  }

  private store(): void {
    if (!this.token) return;
    const stored: StoredSession = { token: this.token, name: this.name, rooms: [...this.rooms.keys()] };
    this.storage?.setItem(StorageKey, JSON.stringify(stored));
  }

  private changed(): void {
    this.snapshot = this.buildSnapshot();
    for (const listener of this.listeners) listener();
  }

  private buildSnapshot(): ChatState {
    return {
      status: this.status,
      session: this.session,
      name: this.name,
      visibleRoom: this.visibleRoom,
      lastError: this.lastError,
      rooms: [...this.rooms.values()].map((room) => ({
        name: room.name,
        messages: [...room.messages],
        members: [...room.members].sort(),
        unread: room.unread,
      })),
    };
  }
}

function newRoom(name: string): RoomState {
  return { name, messages: [], members: new Set(), unread: 0, fillingGap: false };
}

function lastSeq(room: RoomState): number {
  return room.messages.length ? room.messages[room.messages.length - 1].seq : 0;
}
