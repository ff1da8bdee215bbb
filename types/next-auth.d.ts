import type { DefaultSession } from "next-auth";

declare module "next-auth" {
  interface Session {
    user: { id: string; epoch?: number } & DefaultSession["user"];
  }
  interface User {
    username?: string;
    epoch?: number;
  }
}
