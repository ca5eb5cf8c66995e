// Users (admins): list, add, change role, disable, reset a password, delete.
import { del, fmtTime, get, patch, post } from "../api.js";
import { confirmAction, dataTable, dialog, errorText, form, h, pageHead, toast } from "../ui.js";

const ROLE_OPTIONS = [["guest", "Guest"], ["host", "Host"], ["program_manager",
  "Program manager"], ["admin", "Admin"]];

function userForm(user, onDone) {
  const specs = [
    { name: "name", label: "Login name", value: user ? user.name : "", required: true,
      autocomplete: "off" },
    { name: "display_name", label: "Display name", value: user ? user.display_name : "" },
    { name: "email", label: "E-mail", type: "email", value: user ? user.email || "" : "" },
    { name: "role", label: "Role", type: "select", value: user ? user.role : "host",
      options: ROLE_OPTIONS },
    { name: "password", label: user ? "New password (leave empty to keep)" : "Password",
      type: "password", autocomplete: "new-password", required: !user },
  ];
  if (user) specs.push({ name: "disabled", label: "Disabled (cannot log in)", type: "checkbox",
    value: user.disabled });
  return form(specs, user ? "Save" : "Add user", async (v) => {
    const body = { display_name: v.display_name, email: v.email || null, role: v.role };
    if (v.password) body.password = v.password;
    if (user) {
      if (v.name !== user.name) body.name = v.name;
      body.disabled = v.disabled;
      await patch("/users/" + user.id, body);
    } else {
      body.name = v.name;
      await post("/users", body);
    }
    onDone();
  });
}

export default async function users(main, ctx) {
  let table;
  const edit = (user) => {
    let close;
    const f = userForm(user, () => {
      toast(user ? "Saved." : "User added.");
      close();
      table.reload();
    });
    const p = dialog(user ? "Edit " + user.name : "Add a user", f);
    close = () => document.querySelector("dialog.dialog")?.close();
    return p;
  };
  table = dataTable([
    { key: "name", label: "Name", sort: "name" },
    { key: "display_name", label: "Display name", sort: "display_name" },
    { key: "role", label: "Role", sort: "role", render: (u) => u.role.replace("_", " ") },
    { key: "email", label: "E-mail" },
    { key: "disabled", label: "State", render: (u) => (u.disabled ? "disabled" : "active") },
    { key: "created_at", label: "Added", sort: "created_at", render: (u) =>
      fmtTime(u.created_at), hidden: true },
  ], {
    caption: "Users",
    fetch: (q) => get("/users", q),
    rowActions: (u) => [
      h("button", { type: "button", onclick: () => edit(u) }, "Edit",
        h("span", { class: "visually-hidden" }, " " + u.name)),
      u.id === ctx.user.id ? null : h("button", { type: "button", class: "danger",
        onclick: async () => {
          if (!(await confirmAction("Delete the user " + u.name + "?"))) return;
          try {
            await del("/users/" + u.id);
            table.reload();
          } catch (e) {
            toast(errorText(e), "error");
          }
        } }, "Delete", h("span", { class: "visually-hidden" }, " " + u.name)),
    ],
  });
  main.append(pageHead("Users", h("button", { type: "button", class: "primary",
    onclick: () => edit(null) }, "Add user")), table);
}
