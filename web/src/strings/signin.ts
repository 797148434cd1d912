export default {
  vi: {
    "signin.title": "Đăng nhập cán bộ",
    "signin.intro": "Dành cho cán bộ phường, lãnh đạo, kiểm duyệt viên và quản trị viên.",
    "signin.username": "Tên đăng nhập",
    "signin.password": "Mật khẩu",
    "signin.submit": "Đăng nhập",
  },
  en: {
    "signin.title": "Staff sign-in",
    "signin.intro": "For ward officers, leaders, moderators and administrators.",
    "signin.username": "Username",
    "signin.password": "Password",
    "signin.submit": "Sign in",
  },
};
